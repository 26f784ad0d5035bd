// BGP prefixes ("10.0.0.0/24", "2001:db8::/32") as AFI + bytes + length; addresses are lib/util/ip-address.ts's.
import * as net from 'node:net';
import { AFI, type Afi } from './constants';
import { bytesToIp, ipToBytes } from '../../../util/ip-address';

/** The family of an address or prefix already known to be valid: only IPv6 text has a colon. */
export function afiOf(address: string): Afi {
  return address.includes(':') ? AFI.IPV6 : AFI.IPV4;
}

export interface ParsedPrefix { afi: Afi; bytes: Buffer; len: number }

/** scanIPv4Prefix's length for text without "/len" (a host route) */
export const NO_LENGTH = 33;

/**
 * "a.b.c.d/len" in canonical form (no leading zeros), read without regexes or temporary strings: the path
 * every route of a full table takes. Returns address * 64 + length (NO_LENGTH for "a.b.c.d"), or -1 for
 * anything else (the full parser's business).
 */
export function scanIPv4Prefix(s: string): number {
  let addr = 0, octet = 0, digits = 0, octets = 0, i = 0;
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      if (digits === 1 && octet === 0) return -1; // leading zero
      octet = octet * 10 + c - 48;
      if (++digits > 3 || octet > 255) return -1;
    } else if (c === 46 /* . */ || c === 47 /* / */) {
      if (digits === 0 || octets === 4) return -1;
      addr = addr * 256 + octet;
      octets++;
      octet = 0; digits = 0;
      if (c === 47) break;
    } else return -1;
  }
  if (i === s.length) return digits === 0 || octets !== 3 ? -1 : (addr * 256 + octet) * 64 + NO_LENGTH;
  if (octets !== 4) return -1;
  let len = 0, lenDigits = 0;
  for (i++; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57 || ++lenDigits > 2 || (lenDigits === 2 && len === 0)) return -1;
    len = len * 10 + c - 48;
  }
  return lenDigits && len <= 32 ? addr * 64 + len : -1;
}

function parseIPv4Prefix(s: string): ParsedPrefix | undefined {
  const v = scanIPv4Prefix(s);
  if (v < 0) return undefined;
  const len = v % 64;
  const bytes = Buffer.allocUnsafe(4);
  bytes.writeUInt32BE((v - len) / 64);
  return { afi: AFI.IPV4, bytes, len: len === NO_LENGTH ? 32 : len };
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

/**
 * Canonical text of the IPv4 prefix whose first `n` address octets are at buf[off]: the hot path of NLRI
 * decoding, with no intermediate buffer.
 */
export function formatIPv4Prefix(buf: Uint8Array, off: number, n: number, len: number): string {
  let v = 0;
  for (let i = 0; i < n; i++) v |= buf[off + i] << (24 - 8 * i);
  if (len < 32) v &= len === 0 ? 0 : ~0 << (32 - len);
  return formatIPv4(v, len);
}

/** "a.b.c.d/len" of a 32-bit network address (host bits already clear). */
export function formatIPv4(addr: number, len: number): string {
  return `${addr >>> 24}.${(addr >>> 16) & 255}.${(addr >>> 8) & 255}.${addr & 255}/${len}`;
}

/** Canonical text of a prefix: host bits cleared. */
export function formatPrefix(afi: Afi, bytes: Buffer, len: number): string {
  if (afi === AFI.IPV4 && len <= 32) return formatIPv4Prefix(bytes, 0, Math.min(4, bytes.length), len);
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
