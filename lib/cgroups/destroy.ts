// Removing a container's cgroups: children first, retrying briefly while the last processes exit.
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { BerthError, errnoCode } from '../util/errors';
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
      await sleep(Math.min(5 * (i + 1), 50));
    }
  }
}

/**
 * Idempotent: a missing directory is already destroyed. Parents are left alone, except the default one.
 * The hierarchies are independent: all are removed at once, and every one is tried even when one fails.
 */
export async function destroy(h: CgroupHandle, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const results = await Promise.allSettled(distinctDirs(h.paths).map((dir) => destroyDir(dir, deadline)));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}
