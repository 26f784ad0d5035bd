// Joining a cgroup and listing its processes.
import * as fsp from '../util/fs-async';
import path = require('node:path');
import { BerthError } from '../util/errors';
import { Batch, errnoName } from './batch';
import { readOptional } from './files';
import { distinctDirs } from './paths';
import type { CgroupHandle } from './types';

/**
 * Joins every hierarchy in one batch, each write tried even when another fails. Each cgroup.procs write
 * takes the threadgroup lock and may wait for an RCU grace period, which is why they once ran in parallel;
 * measured (bench/cgroups-lifecycle.ts, 9 hierarchies), one batch beats one batch per hierarchy run at
 * once, in wall time and in main-thread CPU per join.
 */
export async function addProcess(h: CgroupHandle, pid: number): Promise<void> {
  if (!Number.isInteger(pid) || pid <= 0) throw new BerthError(`addProcess: bad pid ${pid}`);
  const dirs = distinctDirs(h.paths);
  const b = new Batch();
  for (const dir of dirs) b.write(dir, 'cgroup.procs', String(pid), { nofail: true });
  const { results } = await b.run();
  const i = results.findIndex((r) => errnoName(r) !== undefined);
  if (i >= 0) throw new BerthError(`joining ${dirs[i]} with pid ${pid}: ${errnoName(results[i])}`, { cause: b.error(i, -(results[i] as number)) });
}

/**
 * The files a process writes "0" to in order to join the handle's cgroups itself, before it runs anything
 * (the bootstrap: native/src/bootstrap.c join_cgroups): each v1 hierarchy's `tasks`, since moving one's own
 * thread skips the threadgroup lock that every cgroup.procs write takes and that can wait out an RCU grace
 * period (7-20 ms each time here, once the lock has been idle), and the v2 directory, which the process is
 * cloned into (CLONE_INTO_CGROUP, the same lock-free way) or else joins through its cgroup.procs.
 */
export function selfJoin(h: CgroupHandle): { tasks: string[]; v2: string | null } {
  const v1 = Object.entries(h.paths).filter(([ctrl]) => ctrl !== 'unified');
  return { tasks: distinctDirs(Object.fromEntries(v1)).map((d) => path.join(d, 'tasks')), v2: h.paths.unified ?? null };
}

/** The directory whose cgroup.procs lists every container process: any hierarchy holds them all. */
export function procsDir(h: CgroupHandle): string {
  return h.paths.pids ?? h.paths.freezer ?? h.paths.memory ?? h.paths.unified ?? Object.values(h.paths)[0];
}

async function collect(dir: string, out: Set<number>): Promise<void> {
  const text = await readOptional(dir, 'cgroup.procs');
  if (text === undefined) return;
  for (const s of text.split('\n')) if (s) out.add(Number(s));
  const entries = await fsp.readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const e of entries) if (e.isDirectory()) await collect(path.join(dir, e.name), out);
}

/** Every process in the container's cgroup and its descendants. */
export async function listPids(h: CgroupHandle): Promise<number[]> {
  const out = new Set<number>();
  await collect(procsDir(h), out);
  return [...out].sort((a, b) => a - b);
}
