// BGP prefixes ("10.0.0.0/24", "2001:db8::/32") as AFI + bytes + length; addresses are lib/util/ip-address.ts's.
import * as net from 'node:net';
import { AFI, type Afi } from './constants';
import { bytesToIp, ipToBytes } from '../../../util/ip-address';

/** The family of an address or prefix already known to be valid: only IPv6 text has a colon. */
export function afiOf(address: string): Afi {
  return address.includes(':') ? AFI.IPV6 : AFI.IPV4;
}

export interface ParsedPrefix { afi: Afi; bytes: Buffer; len: number }

/**
 * "a.b.c.d/len" in canonical form (no leading zeros), parsed without regexes or temporary strings: the
 * path every route of a 100,000-route table takes. Anything else returns undefined for the full parser.
 */
function parseIPv4Prefix(s: string): ParsedPrefix | undefined {
  const bytes = Buffer.allocUnsafe(4);
  let octet = 0, digits = 0, n = 0, i = 0;
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      if (digits === 1 && octet === 0) return undefined; // leading zero
      octet = octet * 10 + c - 48;
      if (++digits > 3 || octet > 255) return undefined;
    } else if (c === 46 /* . */ || c === 47 /* / */) {
      if (digits === 0 || n > 3) return undefined;
      bytes[n++] = octet;
      octet = 0; digits = 0;
      if (c === 47) break;
    } else return undefined;
  }
  if (i === s.length) { // no "/len": a host route
    if (digits === 0 || n !== 3) return undefined;
    bytes[n++] = octet;
    return { afi: AFI.IPV4, bytes, len: 32 };
  }
  if (n !== 4) return undefined;
  let len = 0, ld = 0;
  for (i++; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57 || ++ld > 2) return undefined;
    len = len * 10 + c - 48;
  }
  return ld && len <= 32 ? { afi: AFI.IPV4, bytes, len } : undefined;
}

export function parsePrefix(prefix: string): ParsedPrefix {
  const fast = parseIPv4Prefix(prefix);
  if (fast) return fast;
  const [addr, l] = prefix.split('/');
  const afi = afiOf(addr);
  const max = afi === AFI.IPV4 ? 32 : 128;
  const len = l === undefined ? max : Number(l);
  if (!Number.isInteger(len) || len < 0 || len > max || !net.isIP(addr)) throw new TypeError(`bad prefix: ${prefix}`);
  return { afi, bytes: ipToBytes(addr), len };
}

/** Canonical text of a prefix: host bits cleared. */
export function formatPrefix(afi: Afi, bytes: Buffer, len: number): string {
  if (afi === AFI.IPV4 && len <= 32) {
    // the hot path of NLRI decoding: no intermediate buffer
    let v = 0;
    for (let i = 0; i < 4 && i < bytes.length; i++) v |= bytes[i] << (24 - 8 * i);
    if (len < 32) v &= len === 0 ? 0 : ~0 << (32 - len);
    return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}/${len}`;
  }
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
