// Joining a cgroup and listing its processes.
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { BerthError, errnoCode } from '../util/errors';
import { readOptional, writeRaw } from './files';
import { distinctDirs } from './paths';
import type { CgroupHandle } from './types';

/**
 * Joins every hierarchy at once: each cgroup.procs write takes the kernel's threadgroup lock and may wait
 * for an RCU grace period, which overlapping writes share.
 */
export async function addProcess(h: CgroupHandle, pid: number): Promise<void> {
  if (!Number.isInteger(pid) || pid <= 0) throw new BerthError(`addProcess: bad pid ${pid}`);
  const join = async (dir: string): Promise<void> => {
    try {
      await writeRaw(dir, 'cgroup.procs', String(pid));
    } catch (e) {
      throw new BerthError(`joining ${dir} with pid ${pid}: ${errnoCode(e) ?? e}`, { cause: e });
    }
  };
  const results = await Promise.allSettled(distinctDirs(h.paths).map(join));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
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
