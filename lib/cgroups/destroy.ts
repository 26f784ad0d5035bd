// Removing a container's cgroups: one batch when they are empty, else children first, retrying briefly
// while the last processes exit.
import * as fsp from '../util/fs-async';
import path = require('node:path');
import { BerthError, errnoCode } from '../util/errors';
import { Batch, errnoName } from './batch';
import { distinctDirs } from './paths';
import type { CgroupHandle } from './types';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function removeTree(dir: string): Promise<void> {
  let entries;
  try {
    entries = await fsp.readdir(dir, { withFileTypes: true });
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return;
    throw e;
  }
  // sub-cgroups a container made for itself go first (rmdir only removes empty cgroups)
  for (const e of entries) if (e.isDirectory()) await removeTree(path.join(dir, e.name));
  try {
    await fsp.rmdir(dir);
  } catch (e) {
    if (errnoCode(e) !== 'ENOENT') throw e;
  }
}

/**
 * The default placement (<own>/berth/<id>) shares the "berth" parent between containers: remove it once it
 * is empty (EBUSY/ENOTEMPTY means another container still uses it; create retries if it loses a race).
 */
async function removeDefaultParent(dir: string): Promise<void> {
  const parent = path.dirname(dir);
  if (path.basename(parent) === 'berth') await fsp.rmdir(parent).catch(() => undefined);
}

/** One directory: retried while its last processes exit (zombies keep a cgroup populated until reaped). */
async function destroyDir(dir: string, deadline: number): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      await removeTree(dir);
      await removeDefaultParent(dir);
      return;
    } catch (e) {
      if (Date.now() > deadline) throw new BerthError(`removing cgroup ${dir}: ${errnoCode(e) ?? e}`, { cause: e });
      // a zombie not yet reaped (its parent's wait is usually a moment away): look again soon, then less often
      await sleep(Math.min(2 ** i, 50));
    }
  }
}

/**
 * Idempotent: a missing directory is already destroyed. Parents are left alone, except the default one.
 * Fast path, one batch: rmdir every hierarchy's directory, then the default parents (refused while another
 * container uses them). A directory that is still busy (sub-cgroups, processes not yet reaped) falls back
 * to the tree walk with retries; the hierarchies are independent, and every one is tried even when one fails.
 */
export async function destroy(h: CgroupHandle, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const dirs = distinctDirs(h.paths);
  const b = new Batch();
  const leaves = dirs.map((dir) => b.rmdir(dir, { nofail: true }));
  for (const dir of dirs) if (path.basename(path.dirname(dir)) === 'berth') b.rmdir(path.dirname(dir), { nofail: true });
  const { results } = await b.run();
  const busy = dirs.filter((_, i) => results[leaves[i]] !== 0 && errnoName(results[leaves[i]]) !== 'ENOENT');
  const slow = await Promise.allSettled(busy.map((dir) => destroyDir(dir, deadline)));
  const failed = slow.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}
