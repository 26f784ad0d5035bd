// An image source is a directory (OCI layout) or a tar archive (oci-archive, docker-archive). Both are read
// through the same small interface: file paths relative to the image root, opened by name.
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { errnoCode } from '../util/errors';
import { ImageError } from './errors';
import { indexTar, tarKey, type TarMember } from './tar-index';

export interface ImageSource {
  /** the path the user gave, for messages */
  readonly location: string;
  exists(name: string): Promise<boolean>;
  size(name: string): Promise<number>;
  open(name: string, range?: { start: number; end: number }): Readable;
}

/** Member names come from untrusted manifests: refuse anything that could leave the image root. */
function cleanName(name: string, source: string): string {
  const key = tarKey(path.posix.normalize(name));
  if (name.startsWith('/') || key === '..' || key.startsWith('../') || key === '' || key.includes('\0')) {
    throw new ImageError(`${source}: refusing blob path ${JSON.stringify(name)} outside the image`);
  }
  return key;
}

class DirSource implements ImageSource {
  constructor(readonly location: string) {}
  private file(name: string): string {
    return path.join(this.location, cleanName(name, this.location));
  }
  async exists(name: string): Promise<boolean> {
    try {
      return (await fsp.stat(this.file(name))).isFile();
    } catch (e) {
      if (errnoCode(e) === 'ENOENT' || errnoCode(e) === 'ENOTDIR') return false;
      throw e;
    }
  }
  async size(name: string): Promise<number> {
    return (await fsp.stat(this.file(name))).size;
  }
  open(name: string, range?: { start: number; end: number }): Readable {
    return fs.createReadStream(this.file(name), range);
  }
}

class TarSource implements ImageSource {
  constructor(readonly location: string, private readonly members: Map<string, TarMember>) {}
  /** Follows symlinks between members (a few hops), resolved relative to the link's directory. */
  private member(name: string): TarMember | undefined {
    let key = cleanName(name, this.location);
    for (let hops = 0; hops < 8; hops++) {
      const m = this.members.get(key);
      if (!m || m.linkname === undefined) return m;
      key = cleanName(path.posix.join(path.posix.dirname(key), m.linkname), this.location);
    }
    return undefined;
  }
  async exists(name: string): Promise<boolean> {
    return this.member(name) !== undefined;
  }
  async size(name: string): Promise<number> {
    return this.need(name).size;
  }
  private need(name: string): TarMember {
    const m = this.member(name);
    if (!m) throw new ImageError(`${this.location}: no ${name} in the archive`);
    return m;
  }
  open(name: string, range?: { start: number; end: number }): Readable {
    const m = this.need(name);
    if (m.size === 0) return Readable.from([]);
    const start = m.offset + (range?.start ?? 0);
    const end = Math.min(m.offset + m.size - 1, m.offset + (range?.end ?? m.size - 1));
    return fs.createReadStream(this.location, { start, end });
  }
}

export async function openSource(location: string): Promise<ImageSource> {
  let st: fs.Stats;
  try {
    st = await fsp.stat(location);
  } catch (e) {
    throw new ImageError(`${location}: ${errnoCode(e) === 'ENOENT' ? 'no such file or directory' : String(e)}`);
  }
  if (st.isDirectory()) return new DirSource(path.resolve(location));
  if (!st.isFile()) throw new ImageError(`${location}: not a directory or an archive file`);
  return new TarSource(path.resolve(location), await indexTar(location));
}

/** Reads a whole (small) member: manifests, configs, index.json. */
export async function readAll(source: ImageSource, name: string, limit = 16 << 20): Promise<Buffer> {
  if (!(await source.exists(name))) throw new ImageError(`${source.location}: missing ${name}`);
  const size = await source.size(name);
  if (size > limit) throw new ImageError(`${source.location}: ${name} is ${size} bytes, more than a manifest should be`);
  const chunks: Buffer[] = [];
  for await (const c of source.open(name)) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}
