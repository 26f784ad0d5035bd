// The next bytes of a front-end's connection, without polling on timers. The connection is a net.Socket that
// libuv owns (kept paused: libuv's read(2) would drop SCM_RIGHTS descriptors), and libuv allows one watcher
// per descriptor number, so we watch a duplicate of it (the same socket under another number) with the
// addon's watchReadable and read the original with recvmsg (unixRecv), descriptors included.
import fs = require('node:fs');
import { native } from '../sys/native';
import { readableWithin } from '../sys/readable';

export interface Received {
  /** empty: the front-end closed its end */
  data: Buffer;
  fds: number[];
  truncated: boolean;
}

/** Nothing came within the time allowed. */
export class RecvTimeout extends Error {
  constructor(ms: number) {
    super(`nothing received in ${ms} ms`);
    this.name = 'RecvTimeout';
  }
}

/** At most `max` bytes from fd, as soon as there are any (or end of stream); RecvTimeout after timeoutMs. */
export async function recvWhenReadable(fd: number, max: number, timeoutMs: number): Promise<Received> {
  const n = native();
  const ready = n.unixRecv(fd, max);
  if (ready) return ready;
  const deadline = Date.now() + timeoutMs;
  const copy = n.dupFd(fd);
  try {
    for (;;) {
      if (!(await readableWithin(copy, deadline - Date.now()))) throw new RecvTimeout(timeoutMs);
      const got = n.unixRecv(fd, max);
      if (got) return got; // null: woken early, wait on
    }
  } finally {
    fs.closeSync(copy);
  }
}
