// The RIB's key for a prefix: an IPv4 prefix in canonical text ("10.1.0.0/16") becomes one number,
// 2^len + (network >>> (32 - len)), unique over all lengths and a small integer (no heap object, cheap to
// hash) up to /30; anything else (IPv6, or text that is not canonical) stays the string it was given.
// A million-route table then costs one Map entry per prefix instead of a string per prefix.

import { formatIPv4, scanIPv4Prefix, scanned } from './codec/prefix';

export type PrefixKey = number | string;

/** The key of a prefix; `keyPrefix(prefixKey(s)) === s` for every string. */
export function prefixKey(s: string): PrefixKey {
  if (!scanIPv4Prefix(s) || !scanned.hasLength) return s;
  const { addr, len } = scanned;
  if (len === 0) return addr === 0 ? 1 : s;
  if (len < 32 && (addr & (0xffffffff >>> len)) !== 0) return s; // host bits set: not canonical, keep the text
  return POW2[len] + (addr >>> (32 - len));
}

const POW2 = Array.from({ length: 33 }, (_, i) => 2 ** i);

/** The prefix text of a key. */
export function keyPrefix(key: PrefixKey): string {
  if (typeof key === 'string') return key;
  const { addr, len } = keyIPv4(key);
  return formatIPv4(addr, len);
}

/** The IPv4 network (unsigned) and length of a numeric key. */
export function keyIPv4(key: number): { addr: number; len: number } {
  const len = key >= 2 ** 32 ? 32 : 31 - Math.clz32(key);
  return { addr: len === 0 ? 0 : (key - 2 ** len) * 2 ** (32 - len), len };
}
