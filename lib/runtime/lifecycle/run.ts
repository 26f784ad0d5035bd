// run: create + start + wait + delete in one call.
import { DEFAULT_ROOT, NotFoundError, type StoredState } from '../state';
import type { Sys } from '../sys';
import { createStored, type CreateOptions } from './create';
import { removeStopped } from './delete';
import { wait } from './wait';

export interface RunOptions extends CreateOptions {
  /** keep the container's state after it exits (runc run --keep) */
  keep?: boolean;
  /** called once the program runs, e.g. to forward signals to it */
  onStarted?: (pid: number) => void;
}

/**
 * Resolves with the exit code (128+signal when killed). The process execs as soon as it is set up (no
 * exec fifo round trip), and is reaped here: it is our child.
 */
export async function run(opts: RunOptions, sys: Sys): Promise<number> {
  const root = opts.root ?? DEFAULT_ROOT;
  const st = await createStored({ ...opts, startNow: true }, sys);
  const exited = wait(st.pid, sys);
  opts.onStarted?.(st.pid);
  const { code, signal } = await exited;
  if (!opts.keep) await removeExited(sys, root, st);
  return signal ? 128 + signal : code;
}

/**
 * delete --force for a container whose init we reaped ourselves: it is stopped, and the state we wrote
 * is in memory, so there is nothing to read back or to kill. A `delete` from elsewhere may have won.
 */
async function removeExited(sys: Sys, root: string, s: StoredState): Promise<void> {
  let unlock: (removed?: boolean) => void;
  try {
    unlock = await sys.lock(root, s.id);
  } catch (e) {
    if (e instanceof NotFoundError) return;
    throw e;
  }
  let removed = false;
  try {
    // deleted while we waited for the lock
    if (!(await sys.hasState(root, s.id))) return;
    await removeStopped(sys, root, s);
    removed = true;
  } finally {
    unlock(removed);
  }
}
