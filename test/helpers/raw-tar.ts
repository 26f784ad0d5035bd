// Tar bytes written by hand, for what tar-stream's packer cannot make: names that are not UTF-8, extended
// headers that claim gigabytes. Large archives are written sparse: the claimed data is a hole, not stored.
import * as fs from 'node:fs';

export interface RawEntry {
  /** bytes, or text (UTF-8) */
  name: Buffer | string;
  /** the typeflag character: '0' file, '5' dir, '2' symlink, 'x' PAX, 'L' GNU long name, 'K' GNU long link */
  type?: string;
  size?: number;
  mode?: number;
  linkname?: Buffer | string;
}

function octal(n: number, width: number): string {
  return `${n.toString(8).padStart(width - 1, '0')}\0`;
}

/** One ustar header block with a valid checksum. */
export function tarHeader(e: RawEntry): Buffer {
  const h = Buffer.alloc(512);
  const name = Buffer.isBuffer(e.name) ? e.name : Buffer.from(e.name);
  if (name.length > 100) throw new Error('tarHeader: name longer than 100 bytes (use a GNU long name entry)');
  name.copy(h, 0);
  h.write(octal(e.mode ?? (e.type === '5' ? 0o755 : 0o644), 8), 100, 'latin1');
  h.write(octal(0, 8), 108, 'latin1');
  h.write(octal(0, 8), 116, 'latin1');
  h.write(octal(e.size ?? 0, 12), 124, 'latin1');
  h.write(octal(1704164645, 12), 136, 'latin1'); // 2024-01-02T03:04:05Z
  h.write(e.type ?? '0', 156, 'latin1');
  if (e.linkname) (Buffer.isBuffer(e.linkname) ? e.linkname : Buffer.from(e.linkname)).copy(h, 157);
  h.write('ustar\u000000', 257, 'latin1');
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return h;
}

export function padding(size: number): Buffer {
  return Buffer.alloc((512 - (size % 512)) % 512);
}

/** A whole member: header, data, padding. */
export function tarMember(e: RawEntry, data: Buffer = Buffer.alloc(0)): Buffer {
  return Buffer.concat([tarHeader({ ...e, size: data.length }), data, padding(data.length)]);
}

/** PAX records "<len> key=value\n" (the length counts itself). */
export function paxRecords(records: [string, Buffer | string][]): Buffer {
  return Buffer.concat(records.map(([key, value]) => {
    const body = Buffer.concat([Buffer.from(` ${key}=`), Buffer.isBuffer(value) ? value : Buffer.from(value), Buffer.from('\n')]);
    let len = body.length + 1;
    while (String(len).length + body.length !== len) len = String(len).length + body.length;
    return Buffer.concat([Buffer.from(String(len)), body]);
  }));
}

export const END_OF_ARCHIVE = Buffer.alloc(1024);

/** A piece of a sparse file: bytes, or a hole of that many zero bytes that takes no disk space. */
export type SparsePart = Buffer | { hole: number };

export function partsSize(parts: SparsePart[]): number {
  return parts.reduce((n, p) => n + (Buffer.isBuffer(p) ? p.length : p.hole), 0);
}

/** Writes the parts at their offsets, leaving holes unwritten. */
export function writeSparse(file: string, parts: SparsePart[]): void {
  const fd = fs.openSync(file, 'w');
  try {
    let at = 0;
    for (const p of parts) {
      if (Buffer.isBuffer(p)) {
        fs.writeSync(fd, p, 0, p.length, at);
        at += p.length;
      } else {
        at += p.hole;
      }
    }
    fs.ftruncateSync(fd, at);
  } finally {
    fs.closeSync(fd);
  }
}
