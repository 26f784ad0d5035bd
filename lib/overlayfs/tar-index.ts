// Indexes an uncompressed tar file (an oci-archive or a docker-archive) so its members can be read by
// offset, in any order, without unpacking the archive first. Only headers are read.
import * as fsp from 'node:fs/promises';
import { ImageError } from './errors';

export interface TarMember {
  /** offset of the member's data in the archive */
  offset: number;
  size: number;
  /** set for symlinks (docker save links <id>/layer.tar to ../blobs/sha256/...) */
  linkname?: string;
}

const BLOCK = 512;

function cstring(buf: Buffer, start: number, len: number): string {
  const end = buf.indexOf(0, start);
  return buf.toString('utf8', start, end < 0 || end > start + len ? start + len : end);
}

function parseSize(buf: Buffer): number {
  // base-256 (GNU) when the high bit is set, else octal text
  if (buf[124] & 0x80) {
    let n = 0;
    for (let i = 125; i < 136; i++) n = n * 256 + buf[i];
    return n;
  }
  const text = cstring(buf, 124, 12).trim();
  return text === '' ? 0 : parseInt(text, 8);
}

function parsePax(data: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let pos = 0;
  while (pos < data.length) {
    const space = data.indexOf(0x20, pos);
    const len = parseInt(data.toString('utf8', pos, space), 10);
    if (space < 0 || !(len > 0)) break;
    const record = data.toString('utf8', space + 1, pos + len - 1);
    const eq = record.indexOf('=');
    if (eq > 0) out[record.slice(0, eq)] = record.slice(eq + 1);
    pos += len;
  }
  return out;
}

/** Normalizes a member name the way manifests refer to it: no leading "./" or "/". */
export function tarKey(name: string): string {
  return name.replace(/^(\.\/|\/)+/, '').replace(/\/+$/, '');
}

export async function indexTar(file: string): Promise<Map<string, TarMember>> {
  const fh = await fsp.open(file, 'r');
  try {
    const { size: total } = await fh.stat();
    const members = new Map<string, TarMember>();
    const header = Buffer.alloc(BLOCK);
    let pos = 0;
    let longName: string | undefined;
    let longLink: string | undefined;
    let pax: Record<string, string> = {};
    const readData = async (offset: number, size: number): Promise<Buffer> => {
      const buf = Buffer.alloc(size);
      await fh.read(buf, 0, size, offset);
      return buf;
    };
    while (pos + BLOCK <= total) {
      const { bytesRead } = await fh.read(header, 0, BLOCK, pos);
      if (bytesRead < BLOCK) break;
      if (header.every((b) => b === 0)) break; // end-of-archive marker
      if (pos === 0 && header.toString('latin1', 257, 262) !== 'ustar') {
        throw new ImageError(`${file}: not a tar archive (compressed archives must be decompressed first)`);
      }
      const type = String.fromCharCode(header[156] || 0x30);
      let size = parseSize(header);
      if (pax.size) size = parseInt(pax.size, 10);
      const dataAt = pos + BLOCK;
      if (!(size >= 0) || dataAt + size > total) throw new ImageError(`${file}: truncated tar archive at offset ${pos}`);
      pos = dataAt + Math.ceil(size / BLOCK) * BLOCK;
      if (type === 'L') { longName = cstring(await readData(dataAt, size), 0, size); continue; }
      if (type === 'K') { longLink = cstring(await readData(dataAt, size), 0, size); continue; }
      if (type === 'x') { pax = parsePax(await readData(dataAt, size)); continue; }
      if (type === 'g') continue;
      let name = cstring(header, 0, 100);
      const prefix = header.toString('latin1', 257, 263) === 'ustar\0' ? cstring(header, 345, 155) : '';
      if (prefix) name = `${prefix}/${name}`;
      name = pax.path ?? longName ?? name;
      const linkname = pax.linkpath ?? longLink ?? cstring(header, 157, 100);
      longName = longLink = undefined;
      pax = {};
      if (type === '0' || type === '7') members.set(tarKey(name), { offset: dataAt, size });
      else if (type === '2') members.set(tarKey(name), { offset: 0, size: 0, linkname });
    }
    return members;
  } finally {
    await fh.close();
  }
}
