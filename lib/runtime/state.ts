// The state store: one directory per container under --root, state.json written atomically, and a
// lock per container (flock on the directory) so concurrent commands on one container serialise.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BerthError, errnoCode } from '../util/errors';
import type { CgroupHandle } from '../cgroups';
import type { NamespaceType, Spec } from './spec/types';

export const DEFAULT_ROOT = '/run/berth';

// `state` and `list` read through fs's callback API: node:fs/promises and the atomic writer load only in
// the commands that write (about a millisecond of every short command's start-up).
/* eslint-disable @typescript-eslint/no-require-imports */
const fsp = () => require('node:fs/promises') as typeof import('node:fs/promises');
const sys = () => require('../sys/native') as typeof import('../sys/native');
const writeFileAtomic: typeof import('../util/fs').writeFileAtomic = (...a) => (require('../util/fs') as typeof import('../util/fs')).writeFileAtomic(...a);
/* eslint-enable @typescript-eslint/no-require-imports */

function readText(file: string): Promise<string> {
  return new Promise((resolve, reject) => fs.readFile(file, 'utf8', (e, text) => (e ? reject(e) : resolve(text))));
}

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
  networks?: import('./network').Attachment[];
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

export async function readState(root: string, id: string): Promise<StoredState> {
  try {
    return JSON.parse(await readText(path.join(root, id, 'state.json'))) as StoredState;
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') throw new NotFoundError(id);
    throw e;
  }
}

export async function writeState(root: string, state: StoredState): Promise<void> {
  await writeFileAtomic(path.join(root, state.id, 'state.json'), JSON.stringify(state), 0o600);
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

/** Creates the container's directory; fails if the id is taken. */
export async function claimId(root: string, id: string): Promise<string> {
  const dir = containerDir(root, id);
  // the root usually exists: make it only when the container's directory cannot be made without it
  for (let attempt = 0; ; attempt++) {
    try {
      await fsp().mkdir(dir, { mode: 0o711 });
      return dir;
    } catch (e) {
      if (errnoCode(e) === 'EEXIST') throw new BerthError(`container with id exists: ${id}`);
      if (errnoCode(e) !== 'ENOENT' || attempt > 0) throw e;
      await fsp().mkdir(root, { recursive: true, mode: 0o711 });
    }
  }
}

export async function removeContainerDir(root: string, id: string): Promise<void> {
  const dir = containerDir(root, id);
  // Usually the directory holds state.json alone: two calls instead of a recursive walk. Anything else
  // in it (exec.fifo, hosts, resolv.conf, a crashed write's temp file) takes the walk.
  try {
    await fsp().unlink(path.join(dir, 'state.json')).catch((e) => { if (errnoCode(e) !== 'ENOENT') throw e; });
    await fsp().rmdir(dir);
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return;
    await fsp().rm(dir, { recursive: true, force: true });
  }
}

/**
 * Takes the container's lock: a blocking flock, fine for a CLI process; the library retries without
 * blocking so the event loop stays free.
 */
export async function lockContainer(root: string, id: string): Promise<() => void> {
  let fd: number;
  try {
    // opened off the event loop: the library may be starting many containers at once
    fd = await new Promise<number>((resolve, reject) =>
      fs.open(containerDir(root, id), fs.constants.O_RDONLY | fs.constants.O_DIRECTORY, (e, f) => (e ? reject(e) : resolve(f))));
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') throw new NotFoundError(id);
    throw e;
  }
  const { native, LOCK } = sys();
  const n = native();
  for (let delay = 1; ; delay = Math.min(delay * 2, 50)) {
    try {
      n.flock(fd, LOCK.EX | LOCK.NB);
      break;
    } catch (e) {
      if (errnoCode(e) !== 'EAGAIN') { fs.closeSync(fd); throw e; }
      await new Promise((r) => setTimeout(r, delay));
    }
  }
  // closing releases the flock; off the event loop, like the open
  return () => fs.close(fd, () => undefined);
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

/** processStartTime without blocking the event loop (the library's create path). */
export async function processStartTimeAsync(pid: number): Promise<string | undefined> {
  try {
    return startTimeOf(await readText(`/proc/${pid}/stat`));
  } catch {
    return undefined;
  }
}

export function isAlive(state: StoredState): boolean {
  return state.pid > 0 && processStartTime(state.pid) === state.pidStartTime;
}
