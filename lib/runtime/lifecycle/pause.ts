// pause and resume: freeze and thaw every process of the container (cgroup freezer).
import { BerthError } from '../../util/errors';
import { DEFAULT_ROOT } from '../state';
import type { CommonOptions } from '../status';
import type { Sys } from '../sys';

export async function pause(id: string, opts: CommonOptions, sys: Sys): Promise<void> {
  const root = opts.root ?? DEFAULT_ROOT;
  const s = await sys.readState(root, id);
  const status = await sys.status(root, s);
  if (status !== 'running' && status !== 'created') throw new BerthError(`container not running`);
  if (!s.cgroup) throw new BerthError('container has no cgroup to freeze');
  await sys.cgroups.freeze(s.cgroup);
}

export async function resume(id: string, opts: CommonOptions, sys: Sys): Promise<void> {
  const root = opts.root ?? DEFAULT_ROOT;
  const s = await sys.readState(root, id);
  const status = await sys.status(root, s);
  if (status !== 'paused') throw new BerthError('container not paused');
  await sys.cgroups.thaw(s.cgroup!);
}
