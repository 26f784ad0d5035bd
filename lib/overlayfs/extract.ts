// Writes one layer tar into a fresh directory, safely: every path component is checked inside the layer
// root, no symlink is ever followed while creating a path, hardlinks may only point at entries already in
// the layer. Whiteouts become overlayfs whiteouts. Owner, mode, mtimes, xattrs, devices are preserved.
//
// It is a TarSink (tar-parser.ts): entries arrive synchronously and are written with synchronous fs calls.
// The layer directory is private to this import, so nothing else waits on the event loop meanwhile, and a
// small file costs one open, write, fchmod, futimens, close: a promise and a threadpool hop per syscall
// would cost more than the syscall itself, many times over on a layer of many small files (bench/ measures it). Paths are byte strings (latin1), passed to fs as Buffers.
import fs = require('node:fs');
import { native } from '../sys/native';
import { errnoCode } from '../util/errors';
import { ImageError } from './errors';
import { entryComponents, quoteName, whiteoutOf } from './entry-path';
import type { TarEntryHeader } from './tar-header';
import type { TarSink } from './tar-parser';

const { S_IFCHR, S_IFBLK, S_IFIFO, O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW } = fs.constants;
const OPAQUE_XATTR = 'trusted.overlay.opaque';

export interface ExtractStats {
  entries: number;
  bytes: number;
  /** xattrs the filesystem does not support */
  skippedXattrs: string[];
}

/** A byte-string path as fs wants it. */
function bytes(p: string): Buffer {
  return Buffer.from(p, 'latin1');
}

/** Runs `create`; when the name is taken, clears it (per `clear`) and tries once more. */
function createOrReplace(create: () => void, clear: () => void): void {
  try {
    create();
  } catch (e) {
    if (errnoCode(e) !== 'EEXIST') throw e;
    clear();
    create();
  }
}

export class LayerWriter implements TarSink {
  /** the layer directory, as a byte string */
  private readonly root: string;
  /** directories already checked to be real directories (not symlinks): saves an lstat per component */
  private readonly knownDirs = new Set<string>();
  /** directory metadata is applied last: writing children would change the mtimes again */
  private readonly dirMeta = new Map<string, TarEntryHeader>();
  /** the regular file being written */
  private open: { fd: number; target: string; header: TarEntryHeader } | undefined;
  /** a new file is already ours: skip the fchown when the entry wants our own ids */
  private readonly euid = process.geteuid?.() ?? -1;
  private readonly egid = process.getegid?.() ?? -1;
  readonly stats: ExtractStats = { entries: 0, bytes: 0, skippedXattrs: [] };

  constructor(root: string) {
    this.root = Buffer.from(root, 'utf8').toString('latin1');
  }

  entry(header: TarEntryHeader): void {
    const name = header.name;
    const comps = entryComponents(name);
    this.stats.entries++;
    const type = header.type;
    if (comps.length === 0) {
      if (type !== 'directory') throw new ImageError(`entry ${quoteName(name)}: the layer root must be a directory`);
      this.dirMeta.set(this.root, header);
      return;
    }
    const base = comps[comps.length - 1];
    const wh = whiteoutOf(base);
    if (wh.kind !== 'none') {
      const dir = this.parent(comps, name, true);
      if (wh.kind === 'opaque') native().lsetxattr(bytes(dir), OPAQUE_XATTR, Buffer.from('y'));
      if (wh.kind === 'file') {
        const hidden = entryComponents(wh.name, `whiteout ${quoteName(name)}`);
        if (hidden.length !== 1) throw new ImageError(`entry ${quoteName(name)}: bad whiteout name`);
        this.whiteout(`${dir}/${hidden[0]}`, header);
      }
      return;
    }
    const target = `${this.parent(comps, name, true)}/${base}`;
    switch (type) {
      case 'directory':
        try {
          fs.mkdirSync(bytes(target), 0o700);
        } catch (e) {
          if (errnoCode(e) !== 'EEXIST') throw e;
          if (this.clear(target, true) === 'none') fs.mkdirSync(bytes(target), 0o700);
        }
        this.knownDirs.add(target);
        this.setXattrs(target, header);
        this.dirMeta.set(target, header);
        return;
      case 'file':
      case 'contiguous-file': {
        let fd = -1;
        // O_EXCL|O_NOFOLLOW: never write through something that appeared at this name
        const create = (): void => void (fd = fs.openSync(bytes(target), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600));
        createOrReplace(create, () => this.clear(target, false));
        this.open = { fd, target, header };
        return;
      }
      case 'symlink':
        createOrReplace(() => fs.symlinkSync(bytes(header.linkname), bytes(target)), () => this.clear(target, false));
        return this.meta(target, header, false);
      case 'link':
        return this.hardlink(target, header);
      case 'character-device':
      case 'block-device':
      case 'fifo': {
        const kind = type === 'fifo' ? S_IFIFO : type === 'block-device' ? S_IFBLK : S_IFCHR;
        const make = (): void => native().mknod(bytes(target), kind | (header.mode & 0o7777), header.devmajor, header.devminor);
        createOrReplace(make, () => this.clear(target, false));
        return this.meta(target, header, true);
      }
      default:
        throw new ImageError(`entry ${quoteName(name)}: unsupported tar entry type ${type}`);
    }
  }

  data(chunk: Buffer): void {
    const file = this.open;
    if (!file) return; // data of a non-file entry (rare: a sized hardlink) is not part of the tree
    for (let off = 0; off < chunk.length;) off += fs.writeSync(file.fd, chunk, off, chunk.length - off);
    this.stats.bytes += chunk.length;
  }

  end(): void {
    const file = this.open;
    if (!file) return;
    this.open = undefined;
    const { fd, header } = file;
    try {
      if (header.uid !== this.euid || header.gid !== this.egid) fs.fchownSync(fd, header.uid, header.gid);
      // after chown: chown clears setuid/setgid bits
      fs.fchmodSync(fd, header.mode & 0o7777);
      this.setXattrs(file.target, header);
      fs.futimesSync(fd, header.mtime, header.mtime);
    } finally {
      fs.closeSync(fd);
    }
  }

  /** Closes what a failed extraction left open; the caller removes the directory. */
  abort(): void {
    if (this.open) fs.closeSync(this.open.fd);
    this.open = undefined;
  }

  /** Applies the deferred directory metadata, deepest first. */
  finish(): void {
    const dirs = [...this.dirMeta.keys()].sort((a, b) => b.split('/').length - a.split('/').length);
    for (const dir of dirs) this.meta(dir, this.dirMeta.get(dir) as TarEntryHeader, true, false);
  }

  /**
   * Walks to the entry's parent directory, one component at a time, creating missing directories and
   * refusing to pass through a symlink or a non-directory (the classic "symlink, then file through it").
   */
  private parent(comps: string[], name: string, create: boolean): string {
    let dir = this.root;
    for (let i = 0; i < comps.length - 1; i++) {
      const next = `${dir}/${comps[i]}`;
      if (!this.knownDirs.has(next)) {
        const st = fs.lstatSync(bytes(next), { throwIfNoEntry: false });
        const shown = quoteName(comps.slice(0, i + 1).join('/'));
        if (!st) {
          if (!create) throw new ImageError(`entry ${quoteName(name)}: ${shown} does not exist in the layer`);
          // tars may omit parent directories: create them like tar does (root-owned, 0755)
          fs.mkdirSync(bytes(next));
          fs.chmodSync(bytes(next), 0o755);
        } else if (st.isSymbolicLink()) {
          throw new ImageError(`entry ${quoteName(name)}: refusing to write through symlink ${shown.slice(1, -1)}`);
        } else if (!st.isDirectory()) {
          throw new ImageError(`entry ${quoteName(name)}: ${shown} is not a directory`);
        }
        this.knownDirs.add(next);
      }
      dir = next;
    }
    return dir;
  }

  /** Removes what a later entry replaces; keeps an existing directory when the new entry is one too. */
  private clear(target: string, keepDir: boolean): 'dir' | 'none' {
    const st = fs.lstatSync(bytes(target), { throwIfNoEntry: false });
    if (!st) return 'none';
    if (st.isDirectory()) {
      if (keepDir) return 'dir';
      fs.rmSync(bytes(target), { recursive: true, force: true });
      this.knownDirs.clear();
      for (const k of this.dirMeta.keys()) if (k === target || k.startsWith(`${target}/`)) this.dirMeta.delete(k);
    } else {
      fs.unlinkSync(bytes(target));
    }
    return 'none';
  }

  private hardlink(target: string, header: TarEntryHeader): void {
    const linkname = header.linkname;
    const comps = entryComponents(linkname, `hardlink ${quoteName(header.name)} ->`);
    if (comps.length === 0) throw new ImageError(`hardlink ${quoteName(header.name)}: target is the layer root`);
    const source = `${this.parent(comps, linkname, false)}/${comps[comps.length - 1]}`;
    const st = fs.lstatSync(bytes(source), { throwIfNoEntry: false });
    if (!st) throw new ImageError(`hardlink ${quoteName(header.name)}: target ${quoteName(linkname)} is not in the layer`);
    if (st.isDirectory()) throw new ImageError(`hardlink ${quoteName(header.name)}: target ${quoteName(linkname)} is a directory`);
    if (source === target) return;
    // link(2) does not follow a symlink source: the new name gets the symlink itself, still inside the layer
    createOrReplace(() => fs.linkSync(bytes(source), bytes(target)), () => this.clear(target, false));
  }

  private whiteout(target: string, header: TarEntryHeader): void {
    // overlayfs: a 0/0 character device hides the name in the layers below
    createOrReplace(() => native().mknod(bytes(target), S_IFCHR, 0, 0), () => this.clear(target, false));
    fs.lutimesSync(bytes(target), header.mtime, header.mtime);
  }

  private meta(target: string, header: TarEntryHeader, chmod: boolean, xattrs = true): void {
    const p = bytes(target);
    fs.lchownSync(p, header.uid, header.gid);
    // after chown: chown clears setuid/setgid bits
    if (chmod) fs.chmodSync(p, header.mode & 0o7777);
    if (xattrs) this.setXattrs(target, header);
    fs.lutimesSync(p, header.mtime, header.mtime);
  }

  private setXattrs(target: string, header: TarEntryHeader): void {
    for (const [name, value] of header.xattrs) {
      // overlay's own xattrs (redirect, metacopy, origin...) in a layer could steer the mount: never apply them
      if (name.startsWith('trusted.overlay.')) continue;
      try {
        native().lsetxattr(bytes(target), name, value);
      } catch (e) {
        if (errnoCode(e) === 'EOPNOTSUPP' || errnoCode(e) === 'ENOTSUP') {
          this.stats.skippedXattrs.push(`${quoteName(header.name)}: ${name}`);
          continue;
        }
        throw new ImageError(`entry ${quoteName(header.name)}: setting xattr ${name}: ${errnoCode(e) ?? String(e)}`);
      }
    }
  }
}
