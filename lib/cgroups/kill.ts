// Signalling every process in a container, including ones forked while we work.
import { Batch, errnoName } from './batch';
import { freeze, thaw } from './freezer';
import { listPids } from './procs';
import type { CgroupHandle } from './types';

const SIGKILL = 9;

export async function killAll(h: CgroupHandle, signal: number): Promise<void> {
  const unified = h.paths.unified;
  // cgroup.kill (Linux 5.14+) kills the whole subtree atomically; on hybrid hosts our processes are in the
  // v2 tree too (addProcess joins it), so it works there as well
  if (signal === SIGKILL && unified) {
    // one batch op, not an access and an open/write/close: ENOENT says the kernel has no cgroup.kill
    const b = new Batch();
    b.write(unified, 'cgroup.kill', '1', { nofail: true });
    const result = (await b.run()).results[0];
    const failed = errnoName(result);
    if (failed === undefined) return;
    if (failed !== 'ENOENT') throw b.error(0, -(result as number));
  }
  // otherwise freeze, so nothing forks past the list, signal each, then thaw so the signals are handled
  let frozen = false;
  try {
    await freeze(h);
    frozen = true;
  } catch {
    /* no freezer: best effort, like runc */
  }
  try {
    for (const pid of await listPids(h)) {
      try {
        process.kill(pid, signal);
      } catch {
        /* already gone */
      }
    }
  } finally {
    if (frozen) await thaw(h);
  }
}
