// One wait for a descriptor to poll readable (data, end of stream or hang-up): the addon's watchReadable,
// stopped when it fires (or, with a time limit, on whichever comes first). No thread waits meanwhile.
import util = require('node:util');
import { native } from './native';

/** true once fd polls readable, false after `ms`; rejects on a poll error. The watch is stopped either way. */
export function readableWithin(fd: number, ms: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    let stop = (): void => undefined;
    const done = (woke: boolean, status = 0): void => {
      clearTimeout(timer);
      stop();
      if (status < 0) reject(new Error(`poll of fd ${fd}: ${util.getSystemErrorName(status)}`));
      else resolve(woke);
    };
    const timer = setTimeout(() => done(false), Math.max(0, ms));
    stop = native().watchReadable(fd, (status) => done(true, status));
  });
}

/** Resolves once fd polls readable; rejects on a poll error. */
export function whenReadable(fd: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let stop = (): void => undefined;
    stop = native().watchReadable(fd, (status) => {
      stop();
      if (status < 0) reject(new Error(`poll of fd ${fd}: ${util.getSystemErrorName(status)}`));
      else resolve();
    });
  });
}
