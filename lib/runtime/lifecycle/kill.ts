// kill: a signal to the container's process, or with --all to every process of its cgroups.
import { BerthError } from '../../util/errors';
import { DEFAULT_ROOT, type StoredState } from '../state';
import type { CommonOptions } from '../status';
import type { Sys } from '../sys';

export async function kill(id: string, signal: number, opts: CommonOptions & { all?: boolean }, sys: Sys): Promise<void> {
  const root = opts.root ?? DEFAULT_ROOT;
  const s = await sys.readState(root, id);
  const status = await sys.status(root, s);
  if (status === 'stopped' && !opts.all) throw new BerthError('container not running');
  if (opts.all && s.cgroup) {
    await sys.cgroups.killAll(s.cgroup, signal);
    return;
  }
  signalProcess(sys, s, signal);
}

/** Signals the exact process the state names (a pidfd, its start time checked), or says it is gone. */
export function signalProcess(sys: Sys, s: StoredState, signal: number): void {
  if (!sys.signal(s.pid, s.pidStartTime, signal)) throw new BerthError('container not running');
}
