// HOME for a container's process, as runc sets it (libcontainer setupUser): an env whose HOME is missing
// or empty gets the home directory of the process's uid from the container's /etc/passwd, or "/" when the
// uid has no entry there. The file is read inside the container's tree (openat2 RESOLVE_IN_ROOT): a
// symlink in a hostile image cannot make berth read a host file.
import fs = require('node:fs');
import path = require('node:path');
import { native } from '../sys/native';
import { isBindMount } from './mount-options';
import type { Mount } from './spec/types';

/** A file of the container: `path` resolved as if the host directory `root` were "/". */
export interface InRoot {
  root: string;
  path: string;
}

const PASSWD = '/etc/passwd';
const MAX_PASSWD_BYTES = 4 << 20; // a larger passwd is read in part, never allocated whole

/** Go's strconv.Atoi with the error ignored, as runc's passwd parser uses it: not a number is 0. */
function atoi(s: string): number {
  return /^[+-]?\d+$/.test(s) ? Number(s) : 0;
}

/** runc's lookup (libcontainer/user): the first entry whose uid field is uid; its home may be empty. */
export function passwdHome(passwd: string | undefined, uid: number): string | undefined {
  for (const raw of (passwd ?? '').split('\n')) {
    const line = raw.trim();
    if (!line) continue;
    const fields = line.split(':'); // name:password:uid:gid:gecos:home:shell
    if (atoi(fields[2] ?? '') === uid) return fields[5] ?? '';
  }
  return undefined;
}

/** `env` with HOME set unless it already has a non-empty one (the last HOME= entry counts, as in a shell). */
export function withHome(env: string[], uid: number, passwd: () => string | undefined): string[] {
  let i = -1;
  env.forEach((e, j) => { if (e.startsWith('HOME=')) i = j; });
  if (i >= 0 && env[i].length > 'HOME='.length) return env;
  const home = `HOME=${passwdHome(passwd(), uid) ?? '/'}`;
  if (i < 0) return [...env, home];
  const out = [...env];
  out[i] = home;
  return out;
}

/** Reads a regular file inside a root, at most MAX_PASSWD_BYTES; undefined when it cannot (runc: no passwd). */
export function readInRoot(file: InRoot): string | undefined {
  let fd: number;
  try {
    // O_NONBLOCK: a FIFO planted at the path must not hang the runtime
    fd = native().openInRoot(file.root, file.path, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | fs.constants.O_NOCTTY);
  } catch {
    return undefined;
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) return undefined;
    const buf = Buffer.alloc(Math.min(st.size, MAX_PASSWD_BYTES));
    let n = 0;
    for (let r; n < buf.length && (r = fs.readSync(fd, buf, n, buf.length - n, null)) > 0; ) n += r;
    return buf.subarray(0, n).toString('utf8');
  } catch {
    return undefined;
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Where the container will find /etc/passwd, known before anything is mounted: the last config mount that
 * covers it (a bind of the file or of a directory above it; podman binds a passwd of its own), else the
 * rootfs. undefined when a non-bind mount (a tmpfs on /etc) hides it.
 */
export function passwdAtCreate(rootfs: string, mounts: Mount[], bundle: string): InRoot | undefined {
  for (let i = mounts.length - 1; i >= 0; i--) {
    const m = mounts[i];
    const dest = path.posix.normalize(m.destination).replace(/(.)\/+$/, '$1');
    if (dest !== PASSWD && !PASSWD.startsWith(dest === '/' ? '/' : `${dest}/`)) continue;
    if (!isBindMount(m) || !m.source) return undefined;
    const source = path.resolve(bundle, m.source);
    // a mount's source is a host path named by the config, resolved on the host as mount(2) does
    if (dest === PASSWD) return { root: '/', path: source };
    return { root: source, path: path.posix.relative(dest, PASSWD) };
  }
  return { root: rootfs, path: PASSWD };
}

/** Where an exec'd process finds /etc/passwd: in the container's tree, or the caller's without a mount namespace. */
export function passwdAtExec(pid: number, joinsMountNamespace: boolean): InRoot {
  return { root: joinsMountNamespace ? `/proc/${pid}/root` : '/', path: PASSWD };
}
