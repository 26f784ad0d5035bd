// BGP prefixes ("10.0.0.0/24", "2001:db8::/32") as AFI + bytes + length; addresses are lib/util/ip-address.ts's.
import * as net from 'node:net';
import { AFI, type Afi } from './constants';
import { bytesToIp, ipToBytes } from '../../../util/ip-address';

/** The family of an address or prefix already known to be valid: only IPv6 text has a colon. */
export function afiOf(address: string): Afi {
  return address.includes(':') ? AFI.IPV6 : AFI.IPV4;
}

export interface ParsedPrefix { afi: Afi; bytes: Buffer; len: number }

/** What scanIPv4Prefix read: kept here, not in a returned object, because it runs once per route. */
export const scanned = { addr: 0, len: 0, hasLength: false };

/**
 * "a.b.c.d/len" or "a.b.c.d" in canonical form (no leading zeros), read without regexes or temporary
 * strings: the path every route of a full table takes. True with the address (unsigned) and length in
 * `scanned`; false for anything else (the full parser's business).
 */
export function scanIPv4Prefix(s: string): boolean {
  let addr = 0, octet = 0, digits = 0, octets = 0, i = 0;
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      if (digits === 1 && octet === 0) return false; // leading zero
      octet = octet * 10 + c - 48;
      if (++digits > 3 || octet > 255) return false;
    } else if (c === 46 /* . */ || c === 47 /* / */) {
      if (digits === 0 || octets === 4) return false;
      addr = (addr << 8) | octet;
      octets++;
      octet = 0; digits = 0;
      if (c === 47) break;
    } else return false;
  }
  if (i === s.length) { // no "/len": a host route
    if (digits === 0 || octets !== 3) return false;
    scanned.addr = ((addr << 8) | octet) >>> 0;
    scanned.len = 32;
    scanned.hasLength = false;
    return true;
  }
  if (octets !== 4) return false;
  let len = 0, lenDigits = 0;
  for (i++; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57 || ++lenDigits > 2 || (lenDigits === 2 && len === 0)) return false;
    len = len * 10 + c - 48;
  }
  if (!lenDigits || len > 32) return false;
  scanned.addr = addr >>> 0;
  scanned.len = len;
  scanned.hasLength = true;
  return true;
}

function parseIPv4Prefix(s: string): ParsedPrefix | undefined {
  if (!scanIPv4Prefix(s)) return undefined;
  const bytes = Buffer.allocUnsafe(4);
  bytes.writeUInt32BE(scanned.addr);
  return { afi: AFI.IPV4, bytes, len: scanned.len };
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

/** "0." to "255.", and "/0" to "/32": a prefix's text in five pieces (half the work of a template string) */
const OCTET_DOT = Array.from({ length: 256 }, (_, i) => `${i}.`);
const OCTET = Array.from({ length: 256 }, (_, i) => `${i}`);
const SLASH_LEN = Array.from({ length: 33 }, (_, i) => `/${i}`);

/** "a.b.c.d/len" of a 32-bit network address (host bits already clear). */
export function formatIPv4(addr: number, len: number): string {
  return OCTET_DOT[addr >>> 24] + OCTET_DOT[(addr >>> 16) & 255] + OCTET_DOT[(addr >>> 8) & 255] + OCTET[addr & 255] + SLASH_LEN[len];
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
