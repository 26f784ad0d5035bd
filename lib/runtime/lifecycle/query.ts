// What the commands beyond state and list read: a container's processes and its stored state.
import { DEFAULT_ROOT, type StoredState } from '../state';
import type { CommonOptions } from '../status';
import type { Sys } from '../sys';

export async function pids(id: string, opts: CommonOptions, sys: Sys): Promise<number[]> {
  const s = await sys.readState(opts.root ?? DEFAULT_ROOT, id);
  if (!s.cgroup) return sys.isAlive(s.pid, s.pidStartTime) ? [s.pid] : [];
  return sys.cgroups.listPids(s.cgroup);
}

export async function stored(id: string, opts: CommonOptions, sys: Sys): Promise<StoredState> {
  return sys.readState(opts.root ?? DEFAULT_ROOT, id);
}
