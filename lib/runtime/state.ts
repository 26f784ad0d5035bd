// The state store: one directory per container under --root, state.json written atomically, and a
// lock per container (flock on the directory) so concurrent commands on one container serialise.
import fs = require('node:fs');
import path = require('node:path');
import { BerthError, errnoCode } from '../util/errors';
import { lock, lockNow } from '../util/file-lock';
import type { CgroupHandle } from '../cgroups';
import type { NamespaceType, Spec } from './spec/types';
import type { Attachment } from './network';

export const DEFAULT_ROOT = '/run/berth';

// The promise helpers load only in the commands that need them (a recursive removal).
const fsp = () => require('../util/fs-async') as typeof import('../util/fs-async');

/** What berth remembers of a container between commands. */
export interface StoredState {
  id: string;
  bundle: string;
  rootfs: string;
  pid: number;
  /** /proc/<pid>/stat start time: tells our process from a recycled pid */
  pidStartTime: string;
  created: string;
  annotations: Record<string, string>;
  owner: string;
  cgroup: CgroupHandle | null;
  namespaces: NamespaceType[];
  config: Spec;
  /** CNI attachments made by `--net`, detached on delete */
  networks?: Attachment[];
  /** set by the image path: an overlay root to release on delete */
  image?: { dataRoot: string; name: string };
}

export class NotFoundError extends BerthError {
  constructor(id: string) {
    super(`container "${id}" does not exist`);
    this.name = 'NotFoundError';
  }
}

export function containerDir(root: string, id: string): string {
  return path.join(root, id);
}

export function execFifoPath(root: string, id: string): string {
  return path.join(root, id, 'exec.fifo');
}

// Small files under --root and /proc are read and made with sync calls: each takes microseconds, where a
// threadpool round trip costs the event loop a wake-up (tens to hundreds of microseconds on a busy host),
// and a warm lifecycle step made about ten of them.
export async function readState(root: string, id: string): Promise<StoredState> {
  try {
    return JSON.parse(fs.readFileSync(path.join(root, id, 'state.json'), 'utf8')) as StoredState;
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') throw new NotFoundError(id);
    throw e;
  }
}

let tempCounter = 0;

const ignoreMissing = (e: unknown): void => {
  if (errnoCode(e) !== 'ENOENT') throw e;
};

/**
 * Written to a temp file and renamed over <dir>/<name>, so readers see the old or the new record, never a
 * part. Sync calls: a few KB into tmpfs take microseconds, where the threadpool's round trip is a wake-up.
 */
async function writeRecord(dir: string, name: string, value: unknown): Promise<void> {
  const file = path.join(dir, name);
  const tmp = path.join(dir, `.${name}.${process.pid}.${++tempCounter}.tmp`);
  const fd = fs.openSync(tmp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o600);
  try {
    fs.writeFileSync(fd, JSON.stringify(value));
    fs.fchmodSync(fd, 0o600); // whatever the umask
    fs.closeSync(fd);
    fs.renameSync(tmp, file);
  } catch (e) {
    try { fs.closeSync(fd); } catch { /* closed above */ }
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}

export async function writeState(root: string, state: StoredState): Promise<void> {
  await writeRecord(containerDir(root, state.id), 'state.json', state);
}

/**
 * What a create is about to do, written atomically under --root before its first side effect and
 * updated as it learns more (the image's config gives the cgroups path): `delete --force` reads it when
 * no state.json exists yet, so a create killed at any instant leaves nothing it cannot remove.
 */
export interface Intent {
  id: string;
  /** the cgroups the container gets, once known (made right after) */
  cgroup?: CgroupHandle;
  /** the overlay root prepared under the image store's containers/<id> */
  image?: { dataRoot: string; name: string };
  /** the CNI attachments it will make, in order (DEL is idempotent: undoing one never made is fine) */
  networks?: Attachment[];
  /** without a mount namespace: the rootfs the bootstrap binds in our mount namespace (host-mounts.ts) */
  rootfsBind?: string;
}

const INTENT = 'intent.json';

export async function writeIntent(root: string, intent: Intent): Promise<void> {
  await writeRecord(containerDir(root, intent.id), INTENT, intent);
}

export async function readIntent(root: string, id: string): Promise<Intent | undefined> {
  try {
    return JSON.parse(fs.readFileSync(path.join(root, id, INTENT), 'utf8')) as Intent;
  } catch (e) {
    // absent (killed between the mkdir and the rename) or, never, torn: nothing recorded, nothing done
    if (errnoCode(e) === 'ENOENT' || e instanceof SyntaxError) return undefined;
    throw e;
  }
}

export async function listIds(root: string): Promise<string[]> {
  try {
    const entries = await new Promise<fs.Dirent[]>((resolve, reject) => fs.readdir(root, { withFileTypes: true }, (e, d) => (e ? reject(e) : resolve(d))));
    return entries.filter((e) => e.isDirectory() && fs.existsSync(path.join(root, e.name, 'state.json'))).map((e) => e.name).sort();
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return [];
    throw e;
  }
}

/**
 * Creates the container's directory holding its intent; fails if the id is taken. Nothing else of the
 * container exists before this returns, so a kill in between leaves a directory that delete --force
 * simply removes.
 */
export async function claimId(root: string, intent: Intent): Promise<string> {
  const dir = containerDir(root, intent.id);
  // the root usually exists: make it only when the container's directory cannot be made without it
  for (let attempt = 0; ; attempt++) {
    try {
      fs.mkdirSync(dir, { mode: 0o711 });
      break;
    } catch (e) {
      if (errnoCode(e) === 'EEXIST') throw new BerthError(`container with id exists: ${intent.id}`);
      if (errnoCode(e) !== 'ENOENT' || attempt > 0) throw e;
      fs.mkdirSync(root, { recursive: true, mode: 0o711 });
    }
  }
  try {
    await writeIntent(root, intent);
  } catch (e) {
    await removeContainerDir(root, intent.id);
    throw e;
  }
  return dir;
}

export async function removeContainerDir(root: string, id: string): Promise<void> {
  const dir = containerDir(root, id);
  // Usually the directory holds state.json and intent.json alone: two unlinks and an rmdir instead of a
  // recursive walk. Anything else in it (exec.fifo, hosts, resolv.conf, a crashed write's temp file) takes
  // the walk.
  try {
    for (const name of ['state.json', INTENT]) {
      try { fs.unlinkSync(path.join(dir, name)); } catch (e) { ignoreMissing(e); }
    }
    fs.rmdirSync(dir);
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return; // already gone
    await fsp().rm(dir, { recursive: true, force: true });
  }
}

/**
 * Takes the container's lock (an flock on its directory) without blocking the event loop: the library
 * may be starting many containers at once.
 */
export async function lockContainer(root: string, id: string): Promise<(removed?: boolean) => void> {
  const dir = containerDir(root, id);
  try {
    // uncontended (the usual case): taken at once, without the threadpool's open
    return lockNow(dir, 'exclusive', { directory: true }) ?? await lock(dir, 'exclusive', { directory: true });
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') throw new NotFoundError(id);
    throw e;
  }
}

function startTimeOf(stat: string): string | undefined {
  // the command name may contain spaces and parentheses: fields start after the last ')'
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  if (fields[0] === 'Z' || fields[0] === 'X') return undefined; // exited, not yet reaped
  return fields[19];
}

/** Field 22 of /proc/<pid>/stat, or undefined when the process is gone. */
export function processStartTime(pid: number): string | undefined {
  try {
    return startTimeOf(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}

export function isAlive(state: Pick<StoredState, 'pid' | 'pidStartTime'>): boolean {
  return state.pid > 0 && processStartTime(state.pid) === state.pidStartTime;
}
