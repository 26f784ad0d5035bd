// The RIB's key for a prefix: an IPv4 prefix in canonical text ("10.1.0.0/16") becomes one number,
// 2^len + (network >>> (32 - len)), unique over all lengths and a small integer (no heap object, cheap to
// hash) up to /30; anything else (IPv6, or text that is not canonical) stays the string it was given.
// A million-route table then costs one Map entry per prefix instead of a string per prefix.

import { formatIPv4, NO_LENGTH, scanIPv4Prefix } from './codec/prefix';

export type PrefixKey = number | string;

/** The key of a prefix; `keyPrefix(prefixKey(s)) === s` for every string. */
export function prefixKey(s: string): PrefixKey {
  const v = scanIPv4Prefix(s);
  const len = v % 64;
  if (v < 0 || len === NO_LENGTH) return s;
  const addr = (v - len) / 64;
  if (len === 0) return addr === 0 ? 1 : s;
  const hostSpan = 2 ** (32 - len);
  if (addr % hostSpan !== 0) return s; // host bits set: not canonical, keep the text as given
  return 2 ** len + addr / hostSpan;
}

/** The prefix text of a key. */
export function keyPrefix(key: PrefixKey): string {
  if (typeof key === 'string') return key;
  const len = key >= 2 ** 32 ? 32 : 31 - Math.clz32(key);
  const addr = len === 0 ? 0 : (key - 2 ** len) * 2 ** (32 - len);
  return formatIPv4(addr, len);
}
