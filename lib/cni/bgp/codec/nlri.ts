// NLRI: a list of (length octet, just enough prefix octets) pairs (RFC 4271 §4.3, RFC 4760 §5).
import { AFI, type Afi } from './constants';
import { formatIPv4Prefix, formatPrefix, parsePrefix } from './prefix';

export function encodeNlri(prefixes: readonly string[]): Buffer {
  const parts: Buffer[] = [];
  for (const p of prefixes) {
    const { bytes, len } = parsePrefix(p);
    parts.push(Buffer.from([len]), bytes.subarray(0, Math.ceil(len / 8)));
  }
  return Buffer.concat(parts);
}

/** Returns the prefixes, or a reason string when the field is malformed (the caller picks the error). */
export function decodeNlri(afi: Afi, buf: Buffer): string[] | { malformed: string } {
  const max = afi === AFI.IPV4 ? 32 : 128;
  const out: string[] = [];
  let off = 0;
  while (off < buf.length) {
    const len = buf[off++];
    if (len > max) return { malformed: `prefix length ${len} > ${max}` };
    const n = Math.ceil(len / 8);
    if (off + n > buf.length) return { malformed: `prefix of length ${len} overruns the field` };
    // IPv4 (a full table's bulk) is read in place: a subarray per prefix costs more than the prefix
    out.push(afi === AFI.IPV4 ? formatIPv4Prefix(buf, off, n, len) : formatPrefix(afi, buf.subarray(off, off + n), len));
    off += n;
  }
  return out;
}
