// Writes one layer tar into a fresh directory, safely: every path component is checked inside the layer
// root, no symlink is ever followed while creating a path, hardlinks may only point at entries already in
// the layer. Whiteouts become overlayfs whiteouts. Owner, mode, mtimes, xattrs, devices are preserved.
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import type { Header } from 'tar-stream';
import { native } from '../sys/native';
import { errnoCode } from '../util/errors';
import { ImageError } from './errors';
import { entryComponents, whiteoutOf } from './entry-path';

/** A tar-stream header; `pax` holds the entry's PAX records (string values). */
export type EntryHeader = Omit<Partial<Header>, 'pax'> & { name: string; pax?: Record<string, string> | null };

/** An entry's data: consumed once, in order. */
type Data = AsyncIterable<unknown>;

const { S_IFCHR, S_IFBLK, S_IFIFO, O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW } = fs.constants;
const XATTR_PAX = 'SCHILY.xattr.';
const OPAQUE_XATTR = 'trusted.overlay.opaque';

export interface ExtractStats {
  entries: number;
  bytes: number;
  /** xattrs skipped because tar-stream decoded a binary value as text (it would be corrupted) */
  skippedXattrs: string[];
}

export class LayerWriter {
  /** directories already checked to be real directories (not symlinks): saves an lstat per component */
  private readonly knownDirs = new Set<string>();
  /** directory metadata is applied last: writing children would change the mtimes again */
  private readonly dirMeta = new Map<string, EntryHeader>();
  readonly stats: ExtractStats = { entries: 0, bytes: 0, skippedXattrs: [] };

  constructor(private readonly root: string) {}

  async entry(header: EntryHeader, data: Data): Promise<void> {
    const name = header.name;
    const comps = entryComponents(name);
    this.stats.entries++;
    const type = header.type ?? 'file';
    if (comps.length === 0) {
      if (type !== 'directory') throw new ImageError(`entry ${JSON.stringify(name)}: the layer root must be a directory`);
      this.dirMeta.set(this.root, header);
      return this.drain(data);
    }
    const base = comps[comps.length - 1];
    const wh = whiteoutOf(base);
    if (wh.kind !== 'none') {
      await this.drain(data);
      const dir = await this.parent(comps, name, true);
      if (wh.kind === 'opaque') native().lsetxattr(dir, OPAQUE_XATTR, Buffer.from('y'));
      if (wh.kind === 'file') {
        const hidden = entryComponents(wh.name, `whiteout ${JSON.stringify(name)}`);
        if (hidden.length !== 1) throw new ImageError(`entry ${JSON.stringify(name)}: bad whiteout name`);
        await this.whiteout(path.join(dir, hidden[0]), header);
      }
      return;
    }
    const target = path.join(await this.parent(comps, name, true), base);
    switch (type) {
      case 'directory':
        if ((await this.clear(target, true)) === 'none') await fsp.mkdir(target, 0o700);
        this.knownDirs.add(target);
        this.setXattrs(target, header);
        this.dirMeta.set(target, header);
        return this.drain(data);
      case 'file':
      case 'contiguous-file':
        await this.clear(target, false);
        return this.file(target, header, data);
      case 'symlink':
        await this.drain(data);
        await this.clear(target, false);
        await fsp.symlink(header.linkname ?? '', target);
        return this.meta(target, header, false);
      case 'link':
        await this.drain(data);
        return this.hardlink(target, header);
      case 'character-device':
      case 'block-device':
      case 'fifo': {
        await this.drain(data);
        await this.clear(target, false);
        const kind = type === 'fifo' ? S_IFIFO : type === 'block-device' ? S_IFBLK : S_IFCHR;
        native().mknod(target, kind | ((header.mode ?? 0) & 0o7777), header.devmajor ?? 0, header.devminor ?? 0);
        return this.meta(target, header, true);
      }
      default:
        throw new ImageError(`entry ${JSON.stringify(name)}: unsupported tar entry type ${type}`);
    }
  }

  /** Applies the deferred directory metadata, deepest first. */
  async finish(): Promise<void> {
    const dirs = [...this.dirMeta.keys()].sort((a, b) => b.split('/').length - a.split('/').length);
    for (const dir of dirs) await this.meta(dir, this.dirMeta.get(dir) as EntryHeader, true, false);
  }

  /**
   * Walks to the entry's parent directory, one component at a time, creating missing directories and
   * refusing to pass through a symlink or a non-directory (the classic "symlink, then file through it").
   */
  private async parent(comps: string[], name: string, create: boolean): Promise<string> {
    let dir = this.root;
    for (let i = 0; i < comps.length - 1; i++) {
      const next = path.join(dir, comps[i]);
      if (!this.knownDirs.has(next)) {
        let st: fs.Stats | undefined;
        try {
          st = await fsp.lstat(next);
        } catch (e) {
          if (errnoCode(e) !== 'ENOENT') throw e;
        }
        const shown = comps.slice(0, i + 1).join('/');
        if (!st) {
          if (!create) throw new ImageError(`entry ${JSON.stringify(name)}: ${shown} does not exist in the layer`);
          // tars may omit parent directories: create them like tar does (root-owned, 0755)
          await fsp.mkdir(next);
          await fsp.chmod(next, 0o755);
        } else if (st.isSymbolicLink()) {
          throw new ImageError(`entry ${JSON.stringify(name)}: refusing to write through symlink ${shown}`);
        } else if (!st.isDirectory()) {
          throw new ImageError(`entry ${JSON.stringify(name)}: ${shown} is not a directory`);
        }
        this.knownDirs.add(next);
      }
      dir = next;
    }
    return dir;
  }

  /** Removes what a later entry replaces; keeps an existing directory when the new entry is one too. */
  private async clear(target: string, keepDir: boolean): Promise<'dir' | 'none'> {
    let st: fs.Stats;
    try {
      st = await fsp.lstat(target);
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') return 'none';
      throw e;
    }
    if (st.isDirectory()) {
      if (keepDir) return 'dir';
      await fsp.rm(target, { recursive: true, force: true });
      this.knownDirs.clear();
      for (const k of this.dirMeta.keys()) if (k === target || k.startsWith(`${target}/`)) this.dirMeta.delete(k);
    } else {
      await fsp.unlink(target);
    }
    return 'none';
  }

  private async file(target: string, header: EntryHeader, data: Data): Promise<void> {
    // O_EXCL|O_NOFOLLOW: never write through something that appeared at this name
    const fh = await fsp.open(target, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600);
    try {
      for await (const chunk of data) {
        await fh.write(chunk as Buffer);
        this.stats.bytes += (chunk as Buffer).length;
      }
    } finally {
      await fh.close();
    }
    await this.meta(target, header, true);
  }

  private async hardlink(target: string, header: EntryHeader): Promise<void> {
    const linkname = header.linkname ?? '';
    const comps = entryComponents(linkname, `hardlink ${JSON.stringify(header.name)} ->`);
    if (comps.length === 0) throw new ImageError(`hardlink ${JSON.stringify(header.name)}: target is the layer root`);
    const source = path.join(await this.parent(comps, linkname, false), comps[comps.length - 1]);
    let st: fs.Stats;
    try {
      st = await fsp.lstat(source);
    } catch {
      throw new ImageError(`hardlink ${JSON.stringify(header.name)}: target ${JSON.stringify(linkname)} is not in the layer`);
    }
    if (st.isDirectory()) throw new ImageError(`hardlink ${JSON.stringify(header.name)}: target ${JSON.stringify(linkname)} is a directory`);
    if (source === target) return;
    await this.clear(target, false);
    // link(2) does not follow a symlink source: the new name gets the symlink itself, still inside the layer
    await fsp.link(source, target);
  }

  private async whiteout(target: string, header: EntryHeader): Promise<void> {
    await this.clear(target, false);
    // overlayfs: a 0/0 character device hides the name in the layers below
    native().mknod(target, S_IFCHR, 0, 0);
    const mtime = mtimeOf(header);
    await fsp.lutimes(target, mtime, mtime);
  }

  private async meta(target: string, header: EntryHeader, chmod: boolean, xattrs = true): Promise<void> {
    await fsp.lchown(target, header.uid ?? 0, header.gid ?? 0);
    // after chown: chown clears setuid/setgid bits
    if (chmod) await fsp.chmod(target, (header.mode ?? 0o644) & 0o7777);
    if (xattrs) this.setXattrs(target, header);
    const mtime = mtimeOf(header);
    await fsp.lutimes(target, mtime, mtime);
  }

  private setXattrs(target: string, header: EntryHeader): void {
    for (const [key, value] of Object.entries(header.pax ?? {})) {
      if (!key.startsWith(XATTR_PAX)) continue;
      const name = key.slice(XATTR_PAX.length);
      // overlay's own xattrs (redirect, metacopy, origin...) in a layer could steer the mount: never apply them
      if (name.startsWith('trusted.overlay.')) continue;
      if (value.includes('\ufffd')) {
        this.stats.skippedXattrs.push(`${header.name}: ${name}`);
        continue;
      }
      try {
        native().lsetxattr(target, name, Buffer.from(value, 'utf8'));
      } catch (e) {
        if (errnoCode(e) === 'EOPNOTSUPP' || errnoCode(e) === 'ENOTSUP') {
          this.stats.skippedXattrs.push(`${header.name}: ${name}`);
          continue;
        }
        throw new ImageError(`entry ${JSON.stringify(header.name)}: setting xattr ${name}: ${errnoCode(e) ?? String(e)}`);
      }
    }
  }

  private async drain(data: Data): Promise<void> {
    for await (const chunk of data) void chunk;
  }
}

/** Seconds, with the PAX fraction when there is one. */
function mtimeOf(header: EntryHeader): number {
  const pax = header.pax?.mtime;
  if (pax !== undefined && Number.isFinite(Number(pax))) return Number(pax);
  return header.mtime ? header.mtime.getTime() / 1000 : 0;
}
