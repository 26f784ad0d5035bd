// wait: the exit of a container's process; waitGone: until a process we signalled is gone.
import { errnoCode } from '../../util/errors';
import type { StoredState } from '../state';
import type { Sys } from '../sys';

/** Resolves with the exit of the container's process: our child (library) or any process (CLI). */
export function wait(pid: number, sys: Sys): Promise<{ code: number; signal: number }> {
  return new Promise((resolve, reject) => {
    try {
      sys.waitPid(pid, (code, signal) => resolve({ code, signal }));
    } catch (e) {
      if (errnoCode(e) === 'ESRCH') resolve({ code: -1, signal: 0 });
      else reject(e);
    }
  });
}

export async function waitGone(sys: Sys, s: StoredState, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  // each wait ends at the exit itself (a pidfd polls readable then), not at the next timer tick
  for (let delay = 1; sys.isAlive(s.pid, s.pidStartTime); delay = Math.min(delay * 2, 50)) {
    if (Date.now() > deadline) return false;
    await sys.exitWithin(s.pid, delay);
  }
  return true;
}
