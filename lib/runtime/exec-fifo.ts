// The exec fifo's reading end: start() lets a created process exec its program by reading its one byte.
import fs = require('node:fs');
import { readableWithin } from '../sys/readable';
import { BerthError, errnoCode } from '../util/errors';

/** How often a wait for the byte checks that the process still lives (it may die before it opens its end). */
const ALIVE_CHECK_MS = 10;

/** 1: the byte came; 0: end of file (no writer now); -1: a writer, no byte yet. */
function readByte(fd: number): number {
  try {
    return fs.readSync(fd, Buffer.alloc(1), 0, 1, null);
  } catch (e) {
    if (errnoCode(e) !== 'EAGAIN') throw e;
    return -1;
  }
}

/**
 * Opens the fifo for reading without blocking and waits for the process's one byte. Until the process
 * has opened its end, reads see end-of-file, so EOF only means "stopped" once the process is gone. The wait
 * is a poll of the fifo, not a timer: the opened reading end wakes the process, which writes at once. A
 * fifo that polls hung up (a writer came and went without a byte) would wake us at once forever: then we
 * sleep between checks instead.
 */
export async function releaseExecFifo(fifo: string, alive: () => boolean): Promise<void> {
  const fd = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  try {
    let woke = false;
    for (;;) {
      const got = readByte(fd);
      if (got === 1) return;
      if (got === 0 && !alive()) throw new BerthError('cannot start a container that has stopped');
      if (got === 0 && woke) {
        // readable yet at end of file: hung up, and every poll would return at once
        await new Promise((r) => setTimeout(r, ALIVE_CHECK_MS));
        woke = false;
        continue;
      }
      woke = await readableWithin(fd, ALIVE_CHECK_MS);
    }
  } finally {
    fs.closeSync(fd);
  }
}
