// One wait for a descriptor to poll readable (data, end of stream or hang-up): the addon's watchReadable,
// stopped when it fires (or, with a time limit, on whichever comes first). No thread waits meanwhile.
import util = require('node:util');
import { native } from './native';

/** true once fd polls readable, false after `ms` (never without one); rejects on a poll error. The watch is stopped either way. */
function watchOnce(fd: number, ms?: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    let stop = (): void => undefined;
    const done = (woke: boolean, status = 0): void => {
      if (timer) clearTimeout(timer);
      stop();
      if (status < 0) reject(new Error(`poll of fd ${fd}: ${util.getSystemErrorName(status)}`));
      else resolve(woke);
    };
    const timer = ms === undefined ? undefined : setTimeout(() => done(false), Math.max(0, ms));
    stop = native().watchReadable(fd, (status) => done(true, status));
  });
}

/** true once fd polls readable, false after `ms`; rejects on a poll error. */
export function readableWithin(fd: number, ms: number): Promise<boolean> {
  return watchOnce(fd, ms);
}

/** Resolves once fd polls readable; rejects on a poll error. */
export async function whenReadable(fd: number): Promise<void> {
  await watchOnce(fd);
}
