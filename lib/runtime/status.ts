// Reading containers' state: what `state` and `list` need, kept light because every command is a fresh
// process and these are the most frequent ones.
import fs = require('node:fs');
import type { CgroupHandle } from '../cgroups';
import { DEFAULT_ROOT, execFifoPath, isAlive, listIds, readState, type StoredState } from './state';

const isFrozen = (h: CgroupHandle): Promise<boolean> => (require('../cgroups/freezer') as typeof import('../cgroups/freezer')).isFrozen(h);

export type Status = 'created' | 'running' | 'paused' | 'stopped';

/** runc's `state` JSON. */
export interface ContainerState {
  ociVersion: string;
  id: string;
  pid: number;
  status: Status;
  bundle: string;
  rootfs: string;
  created: string;
  annotations?: Record<string, string>;
  owner: string;
}

export interface CommonOptions {
  /** state directory, default /run/berth */
  root?: string;
}

export function toContainerState(s: StoredState, status: Status): ContainerState {
  return {
    ociVersion: s.config.ociVersion, id: s.id, pid: status === 'stopped' ? 0 : s.pid, status, bundle: s.bundle,
    rootfs: s.rootfs, created: s.created, annotations: s.annotations, owner: s.owner,
  };
}

export async function statusOf(root: string, s: StoredState): Promise<Status> {
  if (!isAlive(s)) return 'stopped';
  if (fs.existsSync(execFifoPath(root, s.id))) return 'created';
  if (s.cgroup && (await isFrozen(s.cgroup).catch(() => false))) return 'paused';
  return 'running';
}

export async function state(id: string, opts: CommonOptions = {}): Promise<ContainerState> {
  const root = opts.root ?? DEFAULT_ROOT;
  const s = await readState(root, id);
  return toContainerState(s, await statusOf(root, s));
}

export async function list(opts: CommonOptions = {}): Promise<ContainerState[]> {
  const root = opts.root ?? DEFAULT_ROOT;
  const out: ContainerState[] = [];
  for (const id of await listIds(root)) {
    try { out.push(await state(id, opts)); } catch { /* deleted meanwhile */ }
  }
  return out;
}
