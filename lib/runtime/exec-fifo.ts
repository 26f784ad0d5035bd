// The exec fifo's reading end: start() lets a created process exec its program by reading its one byte.
import fs = require('node:fs');
import { BerthError, errnoCode } from '../util/errors';

/**
 * Opens the fifo for reading without blocking and waits for the process's one byte. Until the process
 * has opened its end, reads see end-of-file, so EOF only means "stopped" once the process is gone.
 */
export async function releaseExecFifo(fifo: string, alive: () => boolean): Promise<void> {
  const fd = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  try {
    const buf = Buffer.alloc(1);
    for (let delay = 0; ; delay = Math.min(delay + 1, 10)) {
      try {
        if (fs.readSync(fd, buf, 0, 1, null) === 1) return;
        if (!alive()) throw new BerthError('cannot start a container that has stopped');
      } catch (e) {
        if (errnoCode(e) !== 'EAGAIN') throw e;
      }
      await new Promise((r) => setTimeout(r, delay));
    }
  } finally {
    fs.closeSync(fd);
  }
}
