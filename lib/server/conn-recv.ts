// The next bytes of a front-end's connection, without polling on timers. The connection is a net.Socket that
// libuv owns (kept paused: libuv's read(2) would drop SCM_RIGHTS descriptors), and libuv allows one watcher
// per descriptor number, so we watch a duplicate of it (the same socket under another number) with the
// addon's watchReadable and read the original with recvmsg (unixRecv), descriptors included.
import fs = require('node:fs');
import { native } from '../sys/native';

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
export function recvWhenReadable(fd: number, max: number, timeoutMs: number): Promise<Received> {
  const n = native();
  const ready = n.unixRecv(fd, max);
  if (ready) return Promise.resolve(ready);
  return new Promise<Received>((resolve, reject) => {
    const copy = n.dupFd(fd);
    let stop = (): void => undefined;
    let settled = false;
    const finish = (err: Error | undefined, got?: Received): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      stop();
      fs.closeSync(copy);
      if (err) reject(err);
      else resolve(got!);
    };
    const timer = setTimeout(() => finish(new RecvTimeout(timeoutMs)), Math.max(0, timeoutMs));
    stop = n.watchReadable(copy, (status) => {
      if (status < 0) return finish(new Error(`poll: status ${status}`));
      let got: Received | null;
      try {
        got = n.unixRecv(fd, max);
      } catch (e) {
        return finish(e as Error);
      }
      if (got) finish(undefined, got); // null: woken early, keep watching
    });
  });
}
