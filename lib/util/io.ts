// Output for CLI commands. Writing through fd 1 and 2 directly: touching process.stdout/stderr loads
// Node's whole stream stack, a cost every short command would pay at start-up.
import * as fs from 'node:fs';

function writeAll(fd: number, text: string): void {
  const buf = Buffer.from(text);
  for (let off = 0; off < buf.length; ) {
    try {
      off += fs.writeSync(fd, buf, off);
    } catch (e) {
      // a non-blocking pipe that is full: wait until it drains
      if ((e as { code?: string }).code !== 'EAGAIN') throw e;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
    }
  }
}

export const out = (text: string): void => writeAll(1, text);
export const err = (text: string): void => writeAll(2, text);
