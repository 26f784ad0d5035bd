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
import { PlanContext, type Step, v2Available } from './plan-context';
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

/** Removes what one create made, children first (each list is top first). */
async function removeDirs(dirs: string[]): Promise<void> {
  for (const d of [...dirs].reverse()) await fsp.rmdir(d).catch(() => undefined);
}

/** Steps grouped by directory, order kept within each; `index` is the step's place in the whole plan. */
function stepsByDir(steps: Step[]): Map<string, { step: Step; index: number }[]> {
  const by = new Map<string, { step: Step; index: number }[]>();
  steps.forEach((step, index) => {
    const list = by.get(step.dir) ?? [];
    list.push({ step, index });
    by.set(step.dir, list);
  });
  return by;
}

/** A step that failed, with its place in the plan: the error reported is the one a serial run would hit first. */
class StepFailure {
  constructor(readonly index: number, readonly error: unknown) {}
}

async function runSteps(list: { step: Step; index: number }[] | undefined): Promise<void> {
  for (const { step, index } of list ?? []) {
    try {
      await applySteps([step]);
    } catch (e) {
      throw new StepFailure(index, e);
    }
  }
}

/**
 * Hierarchies are independent, so each distinct directory is made, initialised and written in parallel
 * (one after another they were the critical path of starting a container). Within one directory the
 * plan's order is kept; v2's controllers are enabled before its writes.
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
  const byDir = stepsByDir(steps);
  const dirs = new Map<string, string>(); // distinct directory -> a controller it serves
  for (const [ctrl, dir] of Object.entries(handle.paths)) {
    if (!dirs.has(dir) || ctrl === 'cpuset' || ctrl === 'unified') dirs.set(dir, ctrl);
  }
  const made: string[][] = [];
  const one = async (dir: string, ctrl: string): Promise<void> => {
    const mine: string[] = [];
    made.push(mine);
    mine.push(...(await mkdirs(dir).catch((e: Error & { made?: string[] }) => {
      mine.push(...(e.made ?? []));
      throw e;
    })));
    if (ctrl === 'cpuset') await initCpuset(dir);
    if (ctrl === 'unified') await enableControllers(dir, ctx.enable);
    await runSteps(byDir.get(dir));
    byDir.delete(dir);
  };
  // allSettled: cleanup must not start while another hierarchy is still making its directories
  const results = await Promise.allSettled([...dirs].map(([dir, ctrl]) => one(dir, ctrl)));
  const failures = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
  if (!failures.length && byDir.size) {
    // steps aimed outside the handle's directories (none today): after everything else, in plan order
    try {
      await runSteps([...byDir.values()].flat().sort((a, b) => a.index - b.index));
    } catch (e) {
      failures.push(e);
    }
  }
  if (failures.length) {
    await Promise.all(made.map(removeDirs));
    // a mkdir failure (not a StepFailure) comes first: a serial run would have stopped there
    const first = failures.find((f) => !(f instanceof StepFailure)) ??
      (failures as StepFailure[]).reduce((a, b) => (b.index < a.index ? b : a));
    throw first instanceof StepFailure ? first.error : first;
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

