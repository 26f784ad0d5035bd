// Garbage collection: layers no image and no container references, and leftovers of interrupted imports.
import fsp = require('node:fs/promises');
import path = require('node:path');
import { errnoCode } from '../util/errors';
import { referencedLayers } from './images';
import { removeLayer, TMP_PREFIX } from './layer-store';
import { readRecord, removeContainerRoot } from './rootfs';
import { withStoreLock } from './lock';
import { storePaths } from './paths';

async function readdirOrEmpty(dir: string): Promise<string[]> {
  try {
    return await fsp.readdir(dir);
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return [];
    throw e;
  }
}

const exists = (file: string): Promise<boolean> => fsp.access(file).then(() => true, () => false);

/**
 * Container roots nobody will release: a prepare killed before its record (under the exclusive lock no
 * prepare runs, so a record-less directory is a leftover), or a root whose owner, the runtime's state
 * directory, is gone (a create or delete killed half-way, the state cleared by hand). Their layers are
 * then unreferenced below.
 */
async function removeOrphanRoots(dataRoot: string): Promise<void> {
  const containers = storePaths(dataRoot).containers;
  for (const id of await readdirOrEmpty(containers)) {
    const dir = path.join(containers, id);
    const rec = await readRecord(dir);
    if (rec === undefined || (rec.owner !== undefined && !(await exists(rec.owner)))) await removeContainerRoot(dir);
  }
}

export async function gcLayers(dataRoot: string): Promise<string[]> {
  const p = storePaths(dataRoot);
  if ((await readdirOrEmpty(p.root)).length === 0) return [];
  return withStoreLock(dataRoot, 'exclusive', async () => {
    await removeOrphanRoots(dataRoot);
    const refs = await referencedLayers(dataRoot);
    const removed: string[] = [];
    for (const name of await readdirOrEmpty(p.layers)) {
      // under the exclusive lock no import runs: a temp dir is a leftover of a crashed one
      if (name.startsWith(TMP_PREFIX)) {
        await fsp.rm(path.join(p.layers, name), { recursive: true, force: true });
        continue;
      }
      const diffId = `sha256:${name}`;
      if (refs.has(diffId)) continue;
      await removeLayer(dataRoot, name);
      removed.push(diffId);
    }
    // short links whose layer is gone
    for (const link of await readdirOrEmpty(p.links)) {
      const full = path.join(p.links, link);
      if (!(await fsp.stat(full).then(() => true, () => false))) await fsp.rm(full, { force: true });
    }
    return removed.sort();
  });
}
