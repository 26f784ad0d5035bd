// One `berth lab` command at a time changes labs: two concurrent `join`s would both pick the next node
// number, and a `down` during a `join` would leave the new node's namespace behind. The lock is the labs'
// root directory itself (flock, as the reference host-local locks its directory). `down` removes that
// directory once the last lab is gone, so a lock won on a directory that was removed meanwhile is given
// up and taken again on the one now at that path. What the lock created and the command left empty (a
// refused `up`) is removed again.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tryLockSync } from '../util/file-lock';
import { errnoCode } from '../util/errors';

const RETRY_MS = 50;

function lockedCurrentDirectory(root: string, created: Set<string>): number | undefined {
  const first = fs.mkdirSync(root, { recursive: true, mode: 0o700 });
  for (let d = root; first !== undefined && d.startsWith(first); d = path.dirname(d)) created.add(d);
  let fd: number | undefined;
  try {
    fd = tryLockSync(root, 'exclusive', { directory: true });
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return undefined; // removed between mkdir and open
    throw e;
  }
  if (fd === undefined) return undefined;
  const current = fs.statSync(root, { throwIfNoEntry: false });
  if (current && current.ino === fs.fstatSync(fd).ino && current.dev === fs.fstatSync(fd).dev) return fd;
  fs.closeSync(fd);
  return undefined;
}

/** Deepest first; a directory that is not empty (or gone) stays as it is. */
function removeIfEmpty(dirs: Set<string>): void {
  for (const d of [...dirs].sort((a, b) => b.length - a.length)) {
    try {
      fs.rmdirSync(d);
    } catch {
      return; // not empty, or not ours to judge: its parents are not empty either
    }
  }
}

export async function withLabLock<T>(root: string, fn: () => Promise<T>): Promise<T> {
  const created = new Set<string>();
  let fd: number | undefined;
  while ((fd = lockedCurrentDirectory(root, created)) === undefined) await new Promise((r) => setTimeout(r, RETRY_MS));
  try {
    return await fn();
  } finally {
    removeIfEmpty(created);
    fs.closeSync(fd);
  }
}
