// Pausing and resuming every process of a container: v1 freezer.state, v2 cgroup.freeze.
import { BerthError } from '../util/errors';
import { readOptional, writeRaw } from './files';
import type { CgroupHandle } from './types';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function freezerTarget(h: CgroupHandle): { v1: boolean; dir: string } {
  if (h.paths.freezer) return { v1: true, dir: h.paths.freezer };
  if (h.paths.unified && h.layout === 'v2') return { v1: false, dir: h.paths.unified };
  throw new BerthError('no freezer: this host has neither the v1 freezer controller nor cgroup v2');
}

export async function isFrozen(h: CgroupHandle): Promise<boolean> {
  const t = freezerTarget(h);
  if (t.v1) return (await readOptional(t.dir, 'freezer.state'))?.trim() === 'FROZEN';
  return /^frozen 1$/m.test((await readOptional(t.dir, 'cgroup.events')) ?? '');
}

/** Waits until the kernel reports FROZEN (tasks in uninterruptible sleep can take a while). */
export async function freeze(h: CgroupHandle, timeoutMs = 5000): Promise<void> {
  const t = freezerTarget(h);
  const deadline = Date.now() + timeoutMs;
  for (let i = 0; ; i++) {
    // v1 can stay FREEZING if a task is forking: writing FROZEN again retries the freeze
    if (i === 0 || t.v1) await writeRaw(t.dir, t.v1 ? 'freezer.state' : 'cgroup.freeze', t.v1 ? 'FROZEN' : '1');
    if (await isFrozen(h)) return;
    if (Date.now() > deadline) {
      await thaw(h).catch(() => undefined);
      throw new BerthError(`freezing ${t.dir}: not frozen after ${timeoutMs} ms`);
    }
    await sleep(Math.min(1 + i * 2, 20));
  }
}

export async function thaw(h: CgroupHandle): Promise<void> {
  const t = freezerTarget(h);
  await writeRaw(t.dir, t.v1 ? 'freezer.state' : 'cgroup.freeze', t.v1 ? 'THAWED' : '0');
}
