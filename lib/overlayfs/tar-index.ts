// Indexes an uncompressed tar file (an oci-archive or a docker-archive) so its members can be read by
// offset, in any order, without unpacking the archive first. Only headers are read; extended headers are
// bounded (tar-header.ts), so a hostile size field cannot make this allocate gigabytes.
import fsp = require('node:fs/promises');
import { ImageError } from './errors';
import { BLOCK, ExtendedHeaders, checkExtendedSize, isExtended, isZeroBlock, parseHeader } from './tar-header';

export interface TarMember {
  /** offset of the member's data in the archive */
  offset: number;
  size: number;
  /** set for symlinks (docker save links <id>/layer.tar to ../blobs/sha256/...) */
  linkname?: string;
}

/** Normalizes a member name the way manifests refer to it: no leading "./" or "/". */
export function tarKey(name: string): string {
  return name.replace(/^(\.\/|\/)+/, '').replace(/\/+$/, '');
}

/** Manifests name members in UTF-8 text; the header holds bytes. */
function text(bytes: string): string {
  return Buffer.from(bytes, 'latin1').toString('utf8');
}

export async function indexTar(file: string): Promise<Map<string, TarMember>> {
  const fh = await fsp.open(file, 'r');
  try {
    const { size: total } = await fh.stat();
    const members = new Map<string, TarMember>();
    const block = Buffer.alloc(BLOCK);
    const ext = new ExtendedHeaders();
    let pos = 0;
    while (pos + BLOCK <= total) {
      const { bytesRead } = await fh.read(block, 0, BLOCK, pos);
      if (bytesRead < BLOCK) break;
      if (isZeroBlock(block)) break; // end-of-archive marker
      if (pos === 0 && block.toString('latin1', 257, 262) !== 'ustar') {
        throw new ImageError(`${file}: not a tar archive (compressed archives must be decompressed first)`);
      }
      const at = pos;
      let header;
      try {
        header = parseHeader(block, at);
      } catch (e) {
        throw new ImageError(`${file}: ${(e as Error).message}`);
      }
      const dataAt = at + BLOCK;
      const extended = isExtended(header);
      if (extended) {
        try {
          checkExtendedSize(header, at);
        } catch (e) {
          throw new ImageError(`${file}: ${(e as Error).message}`);
        }
      }
      if (dataAt + header.size > total) throw new ImageError(`${file}: truncated tar archive at offset ${at}`);
      pos = dataAt + Math.ceil(header.size / BLOCK) * BLOCK;
      if (extended) {
        const data = Buffer.alloc(header.size);
        await fh.read(data, 0, header.size, dataAt);
        ext.take(header, data, at);
        continue;
      }
      let entry;
      try {
        entry = ext.apply(header, at);
      } catch (e) {
        throw new ImageError(`${file}: ${(e as Error).message}`);
      }
      if (entry.size !== header.size) {
        // a PAX size (members of 8 GiB and more) moves the next header
        if (dataAt + entry.size > total) throw new ImageError(`${file}: truncated tar archive at offset ${at}`);
        pos = dataAt + Math.ceil(entry.size / BLOCK) * BLOCK;
      }
      const key = tarKey(text(entry.name));
      if (entry.type === 'file' || entry.type === 'contiguous-file') members.set(key, { offset: dataAt, size: entry.size });
      else if (entry.type === 'symlink') members.set(key, { offset: 0, size: 0, linkname: text(entry.linkname) });
    }
    return members;
  } finally {
    await fh.close();
  }
}
