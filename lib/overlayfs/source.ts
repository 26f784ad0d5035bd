// An image source is a directory (OCI layout) or a tar archive (oci-archive, docker-archive). Both are read
// through the same small interface: file paths relative to the image root, opened by name.
import fs = require('node:fs');
import fsp = require('node:fs/promises');
import path = require('node:path');
import { Readable } from 'node:stream';
import { errnoCode } from '../util/errors';
import { ImageError } from './errors';
import { indexTar, tarKey, type TarMember } from './tar-index';

/** Reads of blobs: large enough that a layer's hashing and gunzip see few chunks. */
const READ_CHUNK = 1 << 20;

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

/** Where a symlink inside the image points, as a member name; refused when it would leave the image. */
function linkTarget(link: string, target: string, source: string): string {
  if (target.startsWith('/')) {
    throw new ImageError(`${source}: refusing symlink ${JSON.stringify(link)} -> ${JSON.stringify(target)}: it points outside the image`);
  }
  const joined = path.posix.normalize(path.posix.join(path.posix.dirname(link), target));
  if (joined === '..' || joined.startsWith('../')) {
    throw new ImageError(`${source}: refusing symlink ${JSON.stringify(link)} -> ${JSON.stringify(target)}: it points outside the image`);
  }
  return joined;
}

const MAX_LINK_HOPS = 16;

/**
 * A layout directory. Its files are untrusted like an archive's members: a symlink is followed only to
 * a path inside the directory (resolved here, component by component, as RESOLVE_IN_ROOT would), never to
 * a host file, and the final file is opened with O_NOFOLLOW.
 */
class DirSource implements ImageSource {
  constructor(readonly location: string) {}
  /** The member's real path below the root, with no symlink left in it; undefined when absent. */
  private file(name: string): string | undefined {
    let rest = cleanName(name, this.location).split('/');
    let done: string[] = [];
    for (let hops = 0; rest.length > 0;) {
      const comp = rest.shift() as string;
      const rel = [...done, comp].join('/');
      const st = fs.lstatSync(path.join(this.location, rel), { throwIfNoEntry: false });
      if (!st) return undefined;
      if (st.isSymbolicLink()) {
        if (++hops > MAX_LINK_HOPS) throw new ImageError(`${this.location}: too many symlinks resolving ${JSON.stringify(name)}`);
        const target = linkTarget(rel, fs.readlinkSync(path.join(this.location, rel)), this.location);
        rest = [...target.split('/').filter((c) => c !== '' && c !== '.'), ...rest];
        done = [];
      } else {
        if (rest.length > 0 && !st.isDirectory()) return undefined;
        done.push(comp);
      }
    }
    return path.join(this.location, ...done);
  }
  private stat(name: string): fs.Stats | undefined {
    const file = this.file(name);
    return file === undefined ? undefined : fs.lstatSync(file, { throwIfNoEntry: false });
  }
  async exists(name: string): Promise<boolean> {
    return this.stat(name)?.isFile() ?? false;
  }
  async size(name: string): Promise<number> {
    const st = this.stat(name);
    if (!st?.isFile()) throw new ImageError(`${this.location}: no file ${name} in the image`);
    return st.size;
  }
  open(name: string, range?: { start: number; end: number }): Readable {
    const file = this.file(name);
    if (file === undefined) throw new ImageError(`${this.location}: no file ${name} in the image`);
    const fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
    return fs.createReadStream('', { fd, ...range, highWaterMark: READ_CHUNK });
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
      key = cleanName(linkTarget(key, m.linkname, this.location), this.location);
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
    return fs.createReadStream(this.location, { start, end, highWaterMark: READ_CHUNK });
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
