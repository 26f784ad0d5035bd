// The layer store: layers/<diff_id hex>/ holds one extracted layer, l/<short-id> is a short symlink to it
// (for lowerdir=). A layer appears under its final name only once complete: it is built in layers/.tmp-*.
import fs = require('node:fs');
import fsp = require('node:fs/promises');
import path = require('node:path');
import { errnoCode } from '../util/errors';
import { ImageError } from './errors';
import { digestHex, layerDir, shortId, storePaths } from './paths';

export const TMP_PREFIX = '.tmp-';

export async function ensureStore(dataRoot: string): Promise<void> {
  const p = storePaths(dataRoot);
  for (const dir of [p.root, p.layers, p.links, p.images, p.containers]) await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
}

export function hasLayer(dataRoot: string, diffId: string): boolean {
  try {
    return fs.lstatSync(layerDir(dataRoot, diffId)).isDirectory();
  } catch {
    return false;
  }
}

/** A fresh, private directory to extract into; 0755 as the layer root defaults to that. */
export async function newTempLayer(dataRoot: string): Promise<string> {
  const dir = await fsp.mkdtemp(path.join(storePaths(dataRoot).layers, TMP_PREFIX));
  await fsp.chmod(dir, 0o755);
  return dir;
}

/** Moves a complete layer into place. Another import may have won the race: then ours is dropped. */
export async function commitLayer(dataRoot: string, tmp: string, diffId: string): Promise<void> {
  try {
    await fsp.rename(tmp, layerDir(dataRoot, diffId));
  } catch (e) {
    if (errnoCode(e) !== 'ENOTEMPTY' && errnoCode(e) !== 'EEXIST') throw e;
    await fsp.rm(tmp, { recursive: true, force: true });
  }
  await ensureLink(dataRoot, diffId);
}

/** l/<short-id> -> ../layers/<hex>; returns the link's path. */
export async function ensureLink(dataRoot: string, diffId: string): Promise<string> {
  const link = path.join(storePaths(dataRoot).links, shortId(diffId));
  const want = path.join('..', 'layers', digestHex(diffId));
  try {
    await fsp.symlink(want, link);
  } catch (e) {
    if (errnoCode(e) !== 'EEXIST') throw e;
    const have = await fsp.readlink(link).catch(() => '');
    if (have !== want) throw new ImageError(`layer ${diffId}: short link ${link} already points to ${have} (short id collision)`);
  }
  return link;
}

export async function removeLayer(dataRoot: string, hex: string): Promise<void> {
  const link = path.join(storePaths(dataRoot).links, hex.slice(0, shortId(`sha256:${hex}`).length));
  if ((await fsp.readlink(link).catch(() => '')) === path.join('..', 'layers', hex)) await fsp.rm(link, { force: true });
  await fsp.rm(path.join(storePaths(dataRoot).layers, hex), { recursive: true, force: true });
}
