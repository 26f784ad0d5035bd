// One lock for the whole store (dataRoot/.store.lock). Imports and mounts take it shared; gc and rm take it
// exclusive, so gc never removes a layer that an import or a mount is about to reference.
import fs = require('node:fs');
import { withLock, type LockMode } from '../util/file-lock';
import { storePaths } from './paths';

export async function withStoreLock<T>(dataRoot: string, mode: LockMode, fn: () => Promise<T>): Promise<T> {
  const { root, lock } = storePaths(dataRoot);
  fs.mkdirSync(root, { recursive: true, mode: 0o700 });
  return withLock(lock, mode, fn);
}
