// MAC addresses as text ("02:ab:cd:00:00:01") <-> 6 bytes.

export function parseMac(mac: string): Buffer {
  if (!/^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$/.test(mac)) throw new Error(`invalid MAC address "${mac}"`);
  return Buffer.from(mac.split(':').map((x) => parseInt(x, 16)));
}

export function formatMac(b: Buffer): string {
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');
}
