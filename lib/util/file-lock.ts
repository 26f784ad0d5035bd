// The one flock(2) wrapper. A lock is an open descriptor: closing it releases the lock, also when the
// process dies. `path` is a lock file (created on first use) or, with `directory`, an existing directory
// locked itself (as the reference host-local and runc do with theirs).
import fs = require('node:fs');
import { errnoCode } from './errors';

// the addon loads on the first lock, not when a module that may lock is imported
const sys = () => require('../sys/native') as typeof import('../sys/native');

export type LockMode = 'shared' | 'exclusive';

export interface LockOptions {
  /** lock `path`, an existing directory, instead of a lock file */
  directory?: boolean;
  /** permission bits of a lock file this call creates */
  fileMode?: number;
}

function openFlags(o: LockOptions): number {
  return o.directory ? fs.constants.O_RDONLY | fs.constants.O_DIRECTORY : fs.constants.O_RDWR | fs.constants.O_CREAT;
}

function operation(mode: LockMode): number {
  const { LOCK } = sys();
  return mode === 'shared' ? LOCK.SH : LOCK.EX;
}

/**
 * Blocking: for short-lived processes (a CNI plugin) and critical sections that only read and rewrite a
 * small file. Returns the release.
 */
export function lockSync(path: string, mode: LockMode, o: LockOptions = {}): () => void {
  const fd = fs.openSync(path, openFlags(o), o.fileMode ?? 0o600);
  try {
    sys().native().flock(fd, operation(mode));
  } catch (e) {
    fs.closeSync(fd);
    throw e;
  }
  return () => fs.closeSync(fd);
}

/**
 * Non-blocking, for a lock that says who owns something (a server's pid file): the locked descriptor, to
 * keep open for as long as the lock should hold, or undefined when another process holds it.
 */
export function tryLockSync(path: string, mode: LockMode, o: LockOptions = {}): number | undefined {
  const fd = fs.openSync(path, openFlags(o), o.fileMode ?? 0o600);
  try {
    sys().native().flock(fd, operation(mode) | sys().LOCK.NB);
    return fd;
  } catch (e) {
    fs.closeSync(fd);
    if (errnoCode(e) === 'EAGAIN') return undefined;
    throw e;
  }
}

/**
 * The release lock() hands out for a descriptor it locked. A locked directory that was removed meanwhile:
 * its last close frees the inode (on ext4 about 0.2 ms of journal work), and no one can open the path any
 * more, so it may close off the main thread.
 */
const releaseOf = (fd: number) => (removed = false): void => (removed ? fs.close(fd, () => undefined) : fs.closeSync(fd));

/** lock()'s release when the lock is free now (sync open and flock: no threadpool), else undefined. */
export function lockNow(path: string, mode: LockMode, o: LockOptions = {}): ((removed?: boolean) => void) | undefined {
  const fd = tryLockSync(path, mode, o);
  return fd === undefined ? undefined : releaseOf(fd);
}

export function withLockSync<T>(path: string, mode: LockMode, fn: () => T, o: LockOptions = {}): T {
  const release = lockSync(path, mode, o);
  try {
    return fn();
  } finally {
    release();
  }
}

/**
 * Without blocking the event loop: the descriptor opens off the loop and the flock is retried
 * non-blocking, backing off from 1 to 50 ms. A blocking flock would also deadlock when this same process
 * holds the other mode in a pending async call. Returns the release.
 */
export async function lock(path: string, mode: LockMode, o: LockOptions = {}): Promise<(removed?: boolean) => void> {
  const fd = await new Promise<number>((resolve, reject) =>
    fs.open(path, openFlags(o), o.fileMode ?? 0o600, (e, f) => (e ? reject(e) : resolve(f))));
  const n = sys().native();
  const op = operation(mode) | sys().LOCK.NB;
  for (let delay = 1; ; delay = Math.min(delay * 2, 50)) {
    try {
      n.flock(fd, op);
      return releaseOf(fd);
    } catch (e) {
      if (errnoCode(e) !== 'EAGAIN') { fs.closeSync(fd); throw e; }
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}

export async function withLock<T>(path: string, mode: LockMode, fn: () => Promise<T>, o: LockOptions = {}): Promise<T> {
  const release = await lock(path, mode, o);
  try {
    return await fn();
  } finally {
    release();
  }
}
