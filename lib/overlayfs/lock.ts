// One lock for the whole store (dataRoot/.store.lock). Imports and mounts take it shared; gc and rm take it
// exclusive, so gc never removes a layer that an import or a mount is about to reference.
import * as fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { LOCK, native } from '../sys/native';
import { errnoCode } from '../util/errors';
import { storePaths } from './paths';

export async function withStoreLock<T>(dataRoot: string, mode: 'shared' | 'exclusive', fn: () => Promise<T>): Promise<T> {
  const { root, lock } = storePaths(dataRoot);
  fs.mkdirSync(root, { recursive: true, mode: 0o700 });
  const fd = fs.openSync(lock, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o600);
  try {
    const op = (mode === 'shared' ? LOCK.SH : LOCK.EX) | LOCK.NB;
    // non-blocking with polling: a blocking flock would freeze the event loop, and deadlock when this
    // same process holds the other lock mode in a pending async call
    for (;;) {
      try {
        native().flock(fd, op);
        break;
      } catch (e) {
        if (errnoCode(e) !== 'EAGAIN' && errnoCode(e) !== 'EWOULDBLOCK') throw e;
        await sleep(50);
      }
    }
    return await fn();
  } finally {
    fs.closeSync(fd); // closing drops the lock
  }
}
