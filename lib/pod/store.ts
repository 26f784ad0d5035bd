// A pod's record on disk: <root>/.pods/NAME/pod.json beside the pause container's rootfs. Written once,
// atomically, at create; the directory is the claim on the name (mkdir fails when it is taken). A dot
// directory: container ids never start with one, so `berth list` never sees it.
import fs = require('node:fs');
import fsp = require('node:fs/promises');
import path = require('node:path');
import { BerthError } from '../util/errors';
import { writeFileAtomic } from '../util/fs';

export type PodNetworkMode = 'none' | 'host' | 'cni' | 'container';

export interface PodRecord {
  name: string;
  created: string;
  /** members join the pause process's pid namespace: it is their PID 1 and reaps their orphans */
  sharePid: boolean;
  network: {
    mode: PodNetworkMode; networks?: string[]; confDir?: string; cniPath?: string[];
    /** portMappings (-p) for the networks' plugins */
    capabilityArgs?: Record<string, unknown>;
    /** mode container: the network namespace joined (that container's: its DEL stays with it) */
    netns?: string;
  };
  /** the pause container's id under the same --root */
  pause: string;
}

/** The annotation every member container carries: how `pod rm` finds them from their own state. */
export const POD_ANNOTATION = 'io.berth.pod';

const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_-]{0,62}$/;

export function validatePodName(name: string | undefined): string {
  if (!name) throw new BerthError('a pod name is required', { field: 'NAME' });
  if (!NAME.test(name)) throw new BerthError(`invalid pod name "${name}": letters, digits, _ and -, at most 63, not starting with _ or -`, { field: 'NAME' });
  return name;
}

export const podsDir = (root: string): string => path.join(root, '.pods');
export const podDir = (root: string, name: string): string => path.join(podsDir(root), name);
export const pauseId = (name: string): string => `${name}.pause`;

/** Claims the name: the pod's directory, made fresh. */
export async function claimPod(root: string, name: string): Promise<string> {
  const dir = podDir(root, name);
  await fsp.mkdir(podsDir(root), { recursive: true, mode: 0o700 });
  try {
    await fsp.mkdir(dir, { mode: 0o700 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new BerthError(`pod "${name}" already exists`, { field: 'NAME' });
    throw e;
  }
  return dir;
}

export async function writePod(root: string, rec: PodRecord): Promise<void> {
  await writeFileAtomic(path.join(podDir(root, rec.name), 'pod.json'), JSON.stringify(rec, null, 2) + '\n', 0o600);
}

export async function readPod(root: string, name: string): Promise<PodRecord> {
  validatePodName(name);
  try {
    return JSON.parse(await fsp.readFile(path.join(podDir(root, name), 'pod.json'), 'utf8')) as PodRecord;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new BerthError(`pod "${name}" does not exist`, { field: '--pod' });
    throw e;
  }
}

/** Names of the pods whose directory exists (a create killed before its record: listed too, so rm finds it). */
export function listPodNames(root: string): string[] {
  try {
    return fs.readdirSync(podsDir(root), { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
}

export async function removePodDir(root: string, name: string): Promise<void> {
  await fsp.rm(podDir(root, name), { recursive: true, force: true });
  // the .pods directory goes with its last pod: rm leaves the root as it found it
  await fsp.rmdir(podsDir(root)).catch(() => undefined);
}
