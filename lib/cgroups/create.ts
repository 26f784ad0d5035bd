// createCgroup and updateResources: validate, plan, then touch the kernel in as few batches as the plan
// allows (batch.ts). On v1 and hybrid hosts that is one batch: every mkdir, the cpuset fill and every write.
import path = require('node:path');
import type { LinuxResources } from '../runtime/spec/types';
import { applySteps, enableControllers, type RunBatch } from './apply';
import { Batch, errnoName } from './batch';
import { type Hierarchies, hierarchies } from './hierarchy';
import { resolvePaths } from './paths';
import { planResources } from './plan';
import { PlanContext, v2Available } from './plan-context';
import type { CgroupHandle, CgroupSpec } from './types';
import { validateResources } from './validate';

/** Domain controllers enabled for every container on a pure v2 host, so stats have their files. */
const V2_DEFAULT = ['cpu', 'cpuset', 'io', 'memory', 'pids', 'hugetlb', 'rdma', 'misc'];

/** Runs of a batch when one of its mkdirs finds its parent gone (see tracking). */
const MKDIR_ATTEMPTS = 3;

/** A directory and each of its ancestors strictly below the hierarchy's mount point, top first. */
function levelsBelow(mount: string, dir: string): string[] {
  const levels: string[] = [];
  for (let d = dir; d.length > mount.length && d.startsWith(mount); d = path.dirname(d)) levels.unshift(d);
  return levels;
}

/**
 * The ops that make the handle's directories and ready them for tasks, in a serial run's order. mkdir of
 * every level below each mount point, top first: an existing level is a cheap EEXIST, and the results say
 * which directories this create made. Then v1 cpuset: a new directory's cpus and mems are empty and refuse
 * tasks until set; fill every empty one on the path, parents first, as another create may have just made
 * a shared parent (the default "berth") and not yet filled it.
 */
function layoutOps(h: Hierarchies, paths: Record<string, string>): Batch {
  const b = new Batch();
  const levels = new Map<string, string[]>(); // distinct directory -> its levels (co-mounted controllers share one)
  for (const [ctrl, dir] of Object.entries(paths)) {
    if (!levels.has(dir)) levels.set(dir, levelsBelow(ctrl === 'unified' ? h.unified! : h.v1[ctrl], dir));
  }
  for (const list of levels.values()) for (const d of list) b.mkdir(d);
  if (paths.cpuset) {
    for (const d of levels.get(paths.cpuset)!) {
      b.fill(d, 'cpuset.cpus');
      b.fill(d, 'cpuset.mems');
    }
  }
  return b;
}

/**
 * createCgroup's way to run a batch: every directory one of its mkdirs made goes into `made` (a failure
 * removes exactly those), and a mkdir that meets ENOENT runs the batch again, as a concurrent destroy
 * removes the shared default parent once it is empty. Nothing after a failed mkdir has run, so a rerun
 * repeats only what is idempotent.
 */
function tracking(made: Set<string>): RunBatch {
  return async (b) => {
    for (let attempt = 1; ; attempt++) {
      const out = await b.run();
      out.results.forEach((r, i) => {
        if (r === 0 && b.op(i).op === 'mkdir') made.add(b.op(i).path);
      });
      if (out.failed < 0) return out;
      const vanished = b.op(out.failed).op === 'mkdir' && errnoName(-out.errno) === 'ENOENT';
      if (!vanished || attempt >= MKDIR_ATTEMPTS) throw b.error(out.failed, out.errno);
    }
  };
}

/** Removes what one create made, children first; best effort (the error reported is the create's). */
async function removeDirs(dirs: Set<string>): Promise<void> {
  if (!dirs.size) return;
  const depth = (d: string): number => d.split('/').length;
  const b = new Batch();
  for (const d of [...dirs].sort((x, y) => depth(y) - depth(x))) b.rmdir(d, { nofail: true });
  await b.run().catch(() => undefined);
}

/**
 * Makes the container's directories in every hierarchy, readies them (cpuset, v2 controllers) and applies
 * the limits. Ops run in a serial run's order (mkdirs, cpuset, controllers, then the plan's writes), so a
 * failure reports the first error a serial run would hit, and removes every directory this call made.
 */
export async function createCgroup(spec: CgroupSpec): Promise<CgroupHandle> {
  const h = hierarchies();
  const resources = spec.resources ?? {};
  validateResources(resources, h.layout);
  const handle: CgroupHandle = { layout: h.layout, paths: resolvePaths(h, spec.cgroupsPath, spec.containerId) };
  const ctx = new PlanContext(handle, 'create');
  const steps = await planResources(resources, ctx); // every check that can fail on input: before any mkdir
  if (h.layout === 'v2') {
    const available = await v2Available(handle.paths.unified);
    for (const c of V2_DEFAULT) if (available.has(c)) ctx.enable.add(c);
  }
  const made = new Set<string>();
  const run = tracking(made);
  try {
    let first = layoutOps(h, handle.paths);
    // v2 controllers to enable: the chain is read with the mkdirs, the writes go before the plan's
    if (handle.paths.unified) first = await enableControllers(handle.paths.unified, ctx.enable, first, run);
    await applySteps(steps, first, run);
  } catch (e) {
    await removeDirs(made);
    throw e;
  }
  return handle;
}

/** berth update: validates and plans everything first, so bad input changes nothing. */
export async function updateResources(handle: CgroupHandle, r: LinuxResources): Promise<void> {
  validateResources(r, handle.layout);
  const ctx = new PlanContext(handle, 'update');
  const steps = await planResources(r, ctx);
  const first = handle.paths.unified ? await enableControllers(handle.paths.unified, ctx.enable) : undefined;
  await applySteps(steps, first);
}
