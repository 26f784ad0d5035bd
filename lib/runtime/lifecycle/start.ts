// start: lets a created container's process exec its program.
import { BerthError } from '../../util/errors';
import { DEFAULT_ROOT, execFifoPath } from '../state';
import type { CommonOptions } from '../status';
import type { Sys } from '../sys';
import { ociState } from './oci-state';

export async function start(id: string, opts: CommonOptions, sys: Sys): Promise<void> {
  const root = opts.root ?? DEFAULT_ROOT;
  const unlock = await sys.lock(root, id);
  try {
    const s = await sys.readState(root, id);
    const status = await sys.status(root, s);
    if (status === 'stopped') throw new BerthError('cannot start a container that has stopped');
    if (status !== 'created') throw new BerthError('cannot start an already running container');
    const fifo = execFifoPath(root, id);
    await sys.releaseExecFifo(fifo, () => sys.isAlive(s.pid, s.pidStartTime));
    await sys.removeFile(fifo);
    await sys.runHooks(s.config.hooks?.poststart, ociState(s, 'running'), 'poststart');
  } finally {
    unlock();
  }
}
