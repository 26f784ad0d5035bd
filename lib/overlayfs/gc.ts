// Garbage collection: layers no image and no container references, and leftovers of interrupted imports.
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { errnoCode } from '../util/errors';
import { referencedLayers } from './images';
import { removeLayer, TMP_PREFIX } from './layer-store';
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

export async function gcLayers(dataRoot: string): Promise<string[]> {
  const p = storePaths(dataRoot);
  if ((await readdirOrEmpty(p.root)).length === 0) return [];
  return withStoreLock(dataRoot, 'exclusive', async () => {
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
