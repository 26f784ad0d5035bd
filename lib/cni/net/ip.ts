// IP address and CIDR helpers: text <-> bytes, prefixes, masks. Parsing is berth-ipam's pure-JS parser:
// node:net's isIP costs several milliseconds of every plugin call's start-up.
import { parseIP } from '../ipam/ip';

const isIPv4 = (ip: string): boolean => parseIP(ip)?.family === 4;
const isIPv6 = (ip: string): boolean => parseIP(ip)?.family === 6;

export interface Cidr { ip: string; prefix: number; family: 4 | 6 }

export function ipFamily(ip: string): 4 | 6 {
  if (isIPv4(ip)) return 4;
  if (isIPv6(ip)) return 6;
  throw new Error(`invalid IP address "${ip}"`);
}

export function parseCidr(s: string): Cidr {
  const slash = s.indexOf('/');
  if (slash < 0) throw new Error(`invalid CIDR "${s}": no prefix length`);
  const ip = s.slice(0, slash);
  const family = ipFamily(ip);
  const prefixText = s.slice(slash + 1);
  const prefix = Number(prefixText);
  if (!/^\d+$/.test(prefixText) || prefix > (family === 4 ? 32 : 128)) throw new Error(`invalid CIDR "${s}": bad prefix length`);
  return { ip: formatIp(ipToBytes(ip)), prefix, family };
}

export function ipToBytes(ip: string): Buffer {
  if (isIPv4(ip)) return Buffer.from(ip.split('.').map(Number));
  if (!isIPv6(ip)) throw new Error(`invalid IP address "${ip}"`);
  // an embedded IPv4 tail (::ffff:1.2.3.4) is rewritten as two hex groups first
  const text = ip.replace(/(\d+)\.(\d+)\.(\d+)\.(\d+)$/, (_m, a: string, b: string, c: string, d: string) =>
    `${((+a << 8) | +b).toString(16)}:${((+c << 8) | +d).toString(16)}`);
  const [head, rest] = text.split('::') as [string, string | undefined];
  const h = head ? head.split(':').map((x) => parseInt(x, 16)) : [];
  const r = rest ? rest.split(':').map((x) => parseInt(x, 16)) : [];
  const groups = rest === undefined ? h : [...h, ...new Array<number>(8 - h.length - r.length).fill(0), ...r];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(g, i * 2));
  return out;
}

export function formatIp(b: Buffer): string {
  if (b.length === 4) return [...b].join('.');
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(b.readUInt16BE(i));
  // RFC 5952: compress the longest run (>= 2) of zero groups
  let best = -1, bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) { best = i; bestLen = j - i; }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(':');
  return hex.slice(0, best).join(':') + '::' + hex.slice(best + bestLen).join(':');
}

/** The network address of a CIDR, e.g. 10.1.2.3/24 -> 10.1.2.0/24. */
export function networkOf(c: Cidr): Cidr {
  const b = ipToBytes(c.ip);
  for (let i = 0; i < b.length; i++) {
    const bits = Math.max(0, Math.min(8, c.prefix - i * 8));
    b[i] &= (0xff << (8 - bits)) & 0xff;
  }
  return { ip: formatIp(b), prefix: c.prefix, family: c.family };
}

export function cidrString(c: Cidr): string {
  return `${c.ip}/${c.prefix}`;
}

export function cidrContains(net: Cidr, ip: string): boolean {
  if (ipFamily(ip) !== net.family) return false;
  return networkOf({ ip, prefix: net.prefix, family: net.family }).ip === networkOf(net).ip;
}

/** IPv4 broadcast address of a CIDR (all host bits set). */
export function broadcastOf(c: Cidr): string {
  const b = ipToBytes(c.ip);
  for (let i = 0; i < b.length; i++) {
    const bits = Math.max(0, Math.min(8, c.prefix - i * 8));
    b[i] |= ~((0xff << (8 - bits)) & 0xff) & 0xff;
  }
  return formatIp(b);
}

export function parseMac(mac: string): Buffer {
  if (!/^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$/.test(mac)) throw new Error(`invalid MAC address "${mac}"`);
  return Buffer.from(mac.split(':').map((x) => parseInt(x, 16)));
}

export function formatMac(b: Buffer): string {
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');
}

/** The first host address of a CIDR's network (10.1.2.0/24 -> 10.1.2.1), the conventional gateway. */
export function firstHost(cidr: string): string {
  const n = networkOf(parseCidr(cidr));
  const b = ipToBytes(n.ip);
  b[b.length - 1] += 1;
  return formatIp(b);
}
