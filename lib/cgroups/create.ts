// createCgroup and updateResources: validate, plan, then touch the kernel.
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import type { LinuxResources } from '../runtime/spec/types';
import { errnoCode } from '../util/errors';
import { applySteps, enableControllers } from './apply';
import { readOptional, writeRaw } from './files';
import { hierarchies } from './hierarchy';
import { resolvePaths } from './paths';
import { planResources } from './plan';
import { PlanContext, v2Available } from './plan-context';
import type { CgroupHandle, CgroupSpec } from './types';
import { validateResources } from './validate';

/** Domain controllers enabled for every container on a pure v2 host, so stats have their files. */
const V2_DEFAULT = ['cpu', 'cpuset', 'io', 'memory', 'pids', 'hugetlb', 'rdma', 'misc'];

/**
 * mkdir -p that returns the directories it made, top first (so a failure can remove exactly those).
 * Retries when a parent vanishes under it: destroy removes the shared default parent once it is empty.
 */
async function mkdirs(dir: string, attempts = 3): Promise<string[]> {
  const made: string[] = [];
  const missing: string[] = [];
  for (let d = dir; ; d = path.dirname(d)) {
    try {
      await fsp.access(d);
      break;
    } catch {
      missing.unshift(d);
    }
  }
  for (const d of missing) {
    try {
      await fsp.mkdir(d);
      made.push(d);
    } catch (e) {
      if (errnoCode(e) === 'ENOENT' && attempts > 1) return [...made, ...(await mkdirs(dir, attempts - 1))];
      if (errnoCode(e) !== 'EEXIST') throw Object.assign(e as Error, { made });
    }
  }
  return made;
}

/** A new v1 cpuset cgroup starts with no cpus or mems, and then no task may join: copy the parent's. */
/**
 * v1 cpuset: a new directory starts with empty cpus/mems and refuses tasks until they are filled. Fill
 * every empty one on the path, parents first: another create may have just made a shared parent
 * (e.g. the default "berth") and not yet filled it, and our join would then fail with ENOSPC.
 */
async function initCpuset(dir: string): Promise<void> {
  const chain: string[] = [];
  for (let d = dir; ; d = path.dirname(d)) {
    const cpus = await readOptional(d, 'cpuset.cpus');
    if (cpus === undefined) break; // above the cpuset hierarchy
    chain.unshift(d);
    if (cpus.trim()) break; // filled: everything above it is too
    if (d === path.dirname(d)) break;
  }
  for (const d of chain) {
    for (const f of ['cpuset.cpus', 'cpuset.mems']) {
      if ((await readOptional(d, f))?.trim()) continue;
      const parent = (await readOptional(path.dirname(d), f))?.trim();
      if (parent) await writeRaw(d, f, parent).catch(async (e) => {
        // a concurrent create filled it first: fine if it is filled now
        if (!(await readOptional(d, f))?.trim()) throw e;
      });
    }
  }
}

async function removeDirs(dirs: string[]): Promise<void> {
  for (const d of [...dirs].reverse()) await fsp.rmdir(d).catch(() => undefined);
}

export async function createCgroup(spec: CgroupSpec): Promise<CgroupHandle> {
  const h = hierarchies();
  const resources = spec.resources ?? {};
  validateResources(resources, h.layout);
  const handle: CgroupHandle = { layout: h.layout, paths: resolvePaths(h, spec.cgroupsPath, spec.containerId) };
  const ctx = new PlanContext(handle, 'create');
  const steps = await planResources(resources, ctx);
  if (h.layout === 'v2') {
    const available = await v2Available(handle.paths.unified);
    for (const c of V2_DEFAULT) if (available.has(c)) ctx.enable.add(c);
  }
  const made: string[] = [];
  try {
    for (const [ctrl, dir] of Object.entries(handle.paths)) {
      if (made.includes(dir)) continue;
      const m = await mkdirs(dir).catch((e: Error & { made?: string[] }) => {
        made.push(...(e.made ?? []));
        throw e;
      });
      made.push(...m);
      if (ctrl === 'cpuset') await initCpuset(dir);
    }
    if (handle.paths.unified) await enableControllers(handle.paths.unified, ctx.enable);
    await applySteps(steps);
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
  if (handle.paths.unified) await enableControllers(handle.paths.unified, ctx.enable);
  await applySteps(steps);
}

