// Netlink attribute (TLV) encoding: 4-byte header {len u16, type u16}, payload, padding to 4 bytes.
import { NLA_F_NESTED } from './constants';

export type AttrValue = Buffer | Attr[];
export interface Attr { type: number; value: AttrValue }

const align4 = (n: number): number => (n + 3) & ~3;

export function encodeAttrs(attrs: readonly Attr[]): Buffer {
  const parts: Buffer[] = [];
  for (const a of attrs) {
    const nested = Array.isArray(a.value);
    const payload = nested ? encodeAttrs(a.value as Attr[]) : (a.value as Buffer);
    const hdr = Buffer.alloc(4);
    hdr.writeUInt16LE(4 + payload.length, 0);
    hdr.writeUInt16LE(a.type | (nested ? NLA_F_NESTED : 0), 2);
    parts.push(hdr, payload, Buffer.alloc(align4(payload.length) - payload.length));
  }
  return Buffer.concat(parts);
}

/** Flat map type -> payload (the last one wins); nested attributes are parsed on demand with parseAttrs. */
export function parseAttrs(buf: Buffer): Map<number, Buffer> {
  const out = new Map<number, Buffer>();
  let off = 0;
  while (off + 4 <= buf.length) {
    const len = buf.readUInt16LE(off);
    if (len < 4) break;
    const type = buf.readUInt16LE(off + 2) & ~NLA_F_NESTED & 0x7fff;
    out.set(type, buf.subarray(off + 4, off + len));
    off += align4(len);
  }
  return out;
}

export const u8 = (n: number): Buffer => Buffer.from([n]);
export const u16 = (n: number): Buffer => { const b = Buffer.alloc(2); b.writeUInt16LE(n); return b; };
export const u16be = (n: number): Buffer => { const b = Buffer.alloc(2); b.writeUInt16BE(n); return b; };
export const u32 = (n: number): Buffer => { const b = Buffer.alloc(4); b.writeUInt32LE(n >>> 0); return b; };
export const i32 = (n: number): Buffer => { const b = Buffer.alloc(4); b.writeInt32LE(n); return b; };
export const str = (s: string): Buffer => Buffer.from(s + '\0');
export const readStr = (b: Buffer | undefined): string | undefined =>
  b === undefined ? undefined : b.toString('utf8', 0, b.indexOf(0) >= 0 ? b.indexOf(0) : b.length);
export const readU32 = (b: Buffer | undefined): number | undefined => (b && b.length >= 4 ? b.readUInt32LE(0) : undefined);
