// Small file helpers shared by every store: atomic writes and tolerant reads/removes.
import fs = require('node:fs');
import path = require('node:path');
import { errnoCode } from './errors';

let counter = 0;
function tempName(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${++counter}.tmp`);
}

/** Writes via a temp file and rename, so readers see the old or the new content, never a part. */
export function writeFileAtomicSync(file: string, data: string | Buffer, mode = 0o644): void {
  const tmp = tempName(file);
  try {
    fs.writeFileSync(tmp, data, { mode });
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}

export async function writeFileAtomic(file: string, data: string | Buffer, mode = 0o644): Promise<void> {
  // loads on first use: short-lived CLIs that only write synchronously skip it
  const fsp = require('./fs-async') as typeof import('./fs-async');
  const tmp = tempName(file);
  try {
    await fsp.writeFile(tmp, data, { mode });
    await fsp.rename(tmp, file);
  } catch (e) {
    await fsp.rm(tmp, { force: true });
    throw e;
  }
}

/** Reads a file, or undefined when it does not exist. */
export function readFileIfExists(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return undefined;
    throw e;
  }
}
