// OCI mount options -> mount(2) flags, propagation, mount_setattr attributes and the filesystem data
// string, with runc's vocabulary (libcontainer/specconv's mountPropagationMapping and mountFlags).
import { MS } from '../sys/native';
import { ConfigError } from '../util/errors';
import type { Mount } from './spec/types';

export interface ParsedMountOptions {
  flags: number;
  propagation: number[];
  attrSet: bigint;
  attrClr: bigint;
  data: string[];
  bind: boolean;
}

const MS_I_VERSION = 1 << 23;

// [set?, flag]: a false first element clears the flag
const FLAGS: Record<string, [boolean, number]> = {
  async: [false, MS.SYNCHRONOUS], atime: [false, MS.NOATIME], bind: [true, MS.BIND], defaults: [true, 0],
  dev: [false, MS.NODEV], diratime: [false, MS.NODIRATIME], dirsync: [true, MS.DIRSYNC], exec: [false, MS.NOEXEC],
  iversion: [true, MS_I_VERSION], lazytime: [true, MS.LAZYTIME], loud: [false, MS.SILENT], mand: [true, MS.MANDLOCK],
  noatime: [true, MS.NOATIME], nodev: [true, MS.NODEV], nodiratime: [true, MS.NODIRATIME], noexec: [true, MS.NOEXEC],
  noiversion: [false, MS_I_VERSION], nolazytime: [false, MS.LAZYTIME], nomand: [false, MS.MANDLOCK],
  norelatime: [false, MS.RELATIME], nostrictatime: [false, MS.STRICTATIME], nosuid: [true, MS.NOSUID],
  nosymfollow: [true, MS.NOSYMFOLLOW], rbind: [true, MS.BIND | MS.REC], relatime: [true, MS.RELATIME],
  remount: [true, MS.REMOUNT], ro: [true, MS.RDONLY], rw: [false, MS.RDONLY], silent: [true, MS.SILENT],
  strictatime: [true, MS.STRICTATIME], suid: [false, MS.NOSUID], sync: [true, MS.SYNCHRONOUS],
};

const PROPAGATION: Record<string, number> = {
  private: MS.PRIVATE, rprivate: MS.PRIVATE | MS.REC, shared: MS.SHARED, rshared: MS.SHARED | MS.REC,
  slave: MS.SLAVE, rslave: MS.SLAVE | MS.REC, unbindable: MS.UNBINDABLE, runbindable: MS.UNBINDABLE | MS.REC,
};

// mount_setattr(2) MOUNT_ATTR_* values, applied recursively ("rro" and friends, runc 1.1+)
const ATTR = { RDONLY: 0x1n, NOSUID: 0x2n, NODEV: 0x4n, NOEXEC: 0x8n, ATIME: 0x70n, NOATIME: 0x10n, STRICTATIME: 0x20n, NODIRATIME: 0x80n, NOSYMFOLLOW: 0x200000n };
const RECURSIVE: Record<string, [boolean, bigint]> = {
  rro: [true, ATTR.RDONLY], rrw: [false, ATTR.RDONLY], rnosuid: [true, ATTR.NOSUID], rsuid: [false, ATTR.NOSUID],
  rnodev: [true, ATTR.NODEV], rdev: [false, ATTR.NODEV], rnoexec: [true, ATTR.NOEXEC], rexec: [false, ATTR.NOEXEC],
  rnodiratime: [true, ATTR.NODIRATIME], rdiratime: [false, ATTR.NODIRATIME], rnosymfollow: [true, ATTR.NOSYMFOLLOW],
  rsymfollow: [false, ATTR.NOSYMFOLLOW],
};
// atime modes are one field: set clears the whole ATIME mask first
const RECURSIVE_ATIME: Record<string, bigint> = { rrelatime: 0n, rnoatime: ATTR.NOATIME, rstrictatime: ATTR.STRICTATIME };

export const PROPAGATION_FLAGS = PROPAGATION;

/** A bind mount by its type or its options: the source is a host path, the type none of its own. */
export function isBindMount(m: Mount): boolean {
  return m.type === 'bind' || (m.options ?? []).some((o) => o === 'bind' || o === 'rbind');
}

export function parseMountOptions(options: string[] | undefined, field: string): ParsedMountOptions {
  const out: ParsedMountOptions = { flags: 0, propagation: [], attrSet: 0n, attrClr: 0n, data: [], bind: false };
  (options ?? []).forEach((opt, i) => {
    if (typeof opt !== 'string') throw new ConfigError(`${field}[${i}]`, 'must be a string');
    const flag = FLAGS[opt];
    if (flag) {
      if (flag[0]) out.flags |= flag[1];
      else out.flags &= ~flag[1];
      return;
    }
    const prop = PROPAGATION[opt];
    if (prop !== undefined) {
      out.propagation.push(prop);
      return;
    }
    const rec = RECURSIVE[opt];
    if (rec) {
      if (rec[0]) { out.attrSet |= rec[1]; out.attrClr &= ~rec[1]; } else { out.attrClr |= rec[1]; out.attrSet &= ~rec[1]; }
      return;
    }
    if (opt in RECURSIVE_ATIME) {
      out.attrClr |= ATTR.ATIME;
      out.attrSet = (out.attrSet & ~ATTR.ATIME) | RECURSIVE_ATIME[opt];
      return;
    }
    if (opt === 'norecursive_atime' || opt === 'tmpcopyup') return; // runc extensions with no effect here
    if (opt === 'idmap' || opt === 'ridmap') throw new ConfigError(`${field}[${i}]`, `"${opt}" (id-mapped mounts) is not supported`);
    out.data.push(opt);
  });
  out.bind = (out.flags & MS.BIND) !== 0;
  return out;
}
