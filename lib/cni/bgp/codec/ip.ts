// IP addresses and prefixes as text ("10.0.0.0/24", "2001:db8::/32") <-> bytes.
import * as net from 'node:net';
import { AFI, type Afi } from './constants';

export function afiOf(address: string): Afi {
  return net.isIPv6(address.split('/')[0]) ? AFI.IPV6 : AFI.IPV4;
}

export function ipToBytes(address: string): Buffer {
  if (net.isIPv4(address)) return Buffer.from(address.split('.').map(Number));
  if (!net.isIPv6(address)) throw new TypeError(`not an IP address: ${address}`);
  let [head, tail] = address.includes('::') ? address.split('::') : [address, undefined];
  // an embedded dotted quad (::ffff:1.2.3.4) becomes two hex groups
  const groups = (s: string): number[] => {
    if (!s) return [];
    const out: number[] = [];
    for (const g of s.split(':')) {
      if (g.includes('.')) {
        const b = g.split('.').map(Number);
        out.push((b[0] << 8) | b[1], (b[2] << 8) | b[3]);
      } else out.push(parseInt(g, 16));
    }
    return out;
  };
  const h = groups(head);
  const t = tail === undefined ? [] : groups(tail);
  const all = tail === undefined ? h : [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t];
  const buf = Buffer.alloc(16);
  all.forEach((g, i) => buf.writeUInt16BE(g, i * 2));
  return buf;
}

export function bytesToIp(buf: Buffer): string {
  if (buf.length === 4) return Array.from(buf).join('.');
  const g: number[] = [];
  for (let i = 0; i < 16; i += 2) g.push(buf.readUInt16BE(i));
  // RFC 5952 §4.2: compress the longest run (>= 2) of zero groups, the first one on ties
  let best = -1, bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) { best = i; bestLen = j - i; }
    i = j;
  }
  const hex = g.map((x) => x.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

export interface ParsedPrefix { afi: Afi; bytes: Buffer; len: number }

export function parsePrefix(prefix: string): ParsedPrefix {
  const [addr, l] = prefix.split('/');
  const afi = afiOf(addr);
  const max = afi === AFI.IPV4 ? 32 : 128;
  const len = l === undefined ? max : Number(l);
  if (!Number.isInteger(len) || len < 0 || len > max || !net.isIP(addr)) throw new TypeError(`bad prefix: ${prefix}`);
  return { afi, bytes: ipToBytes(addr), len };
}

/** Canonical text of a prefix: host bits cleared. */
export function formatPrefix(afi: Afi, bytes: Buffer, len: number): string {
  const full = Buffer.alloc(afi === AFI.IPV4 ? 4 : 16);
  bytes.copy(full, 0, 0, Math.min(bytes.length, full.length));
  const whole = len >> 3;
  if (len % 8 && whole < full.length) full[whole] &= (0xff << (8 - (len % 8))) & 0xff;
  full.fill(0, Math.ceil(len / 8));
  return `${bytesToIp(full)}/${len}`;
}

export function normalizePrefix(prefix: string): string {
  const p = parsePrefix(prefix);
  return formatPrefix(p.afi, p.bytes, p.len);
}

export function isIPv4(s: string): boolean { return net.isIPv4(s); }
