// Image records: images/<name>.json, written atomically. Names are user-facing; ids are config digests.
import fsp = require('node:fs/promises');
import path = require('node:path');
import { writeFileAtomic } from '../util/fs';
import { errnoCode } from '../util/errors';
import { ImageError } from './errors';
import { imageFile, storePaths } from './paths';
import type { ContainerRootfsRecord, ImageRecord } from './types';

/** Names that are safe and unambiguous: docker-like references. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9._\-/:@]{0,254}$/;

export function checkImageName(name: string): string {
  if (!NAME.test(name) || name.split('/').some((c) => c === '..' || c === '.')) {
    throw new ImageError(`invalid image name ${JSON.stringify(name)} (letters, digits and . _ - / : @; at most 255)`);
  }
  return name;
}

export async function writeImage(dataRoot: string, record: ImageRecord): Promise<void> {
  await writeFileAtomic(imageFile(dataRoot, record.name), `${JSON.stringify(record, null, 2)}\n`);
}

export async function listImages(dataRoot: string): Promise<ImageRecord[]> {
  const dir = storePaths(dataRoot).images;
  let names: string[];
  try {
    names = await fsp.readdir(dir);
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return [];
    throw e;
  }
  const out: ImageRecord[] = [];
  for (const n of names.filter((x) => x.endsWith('.json') && !x.startsWith('.')).sort()) {
    out.push(JSON.parse(await fsp.readFile(path.join(dir, n), 'utf8')) as ImageRecord);
  }
  return out;
}

/** By name, or by id ("sha256:<hex>", or a hex prefix of at least 12 characters) when unambiguous. */
export async function findImage(dataRoot: string, ref: string): Promise<ImageRecord> {
  const images = await listImages(dataRoot);
  const byName = images.find((i) => i.name === ref);
  if (byName) return byName;
  const hex = ref.replace(/^sha256:/, '');
  if (/^[0-9a-f]{12,64}$/.test(hex)) {
    const hits = images.filter((i) => i.id.slice('sha256:'.length).startsWith(hex));
    if (hits.length === 1) return hits[0];
    if (hits.length > 1) throw new ImageError(`image id ${ref} is ambiguous (${hits.map((h) => h.name).join(', ')})`);
  }
  throw new ImageError(`no image named ${JSON.stringify(ref)}`);
}

export async function removeImageRecord(dataRoot: string, name: string): Promise<ImageRecord> {
  const record = await findImage(dataRoot, name);
  await fsp.rm(imageFile(dataRoot, record.name), { force: true });
  return record;
}

export async function listContainerRecords(dataRoot: string): Promise<ContainerRootfsRecord[]> {
  const dir = storePaths(dataRoot).containers;
  let ids: string[];
  try {
    ids = await fsp.readdir(dir);
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return [];
    throw e;
  }
  const out: ContainerRootfsRecord[] = [];
  for (const id of ids) {
    try {
      out.push(JSON.parse(await fsp.readFile(path.join(dir, id, 'rootfs.json'), 'utf8')) as ContainerRootfsRecord);
    } catch (e) {
      // a container dir without a record holds no layers (a prepare that failed half-way, or a stray file)
      if (errnoCode(e) !== 'ENOENT' && errnoCode(e) !== 'ENOTDIR') throw e;
    }
  }
  return out;
}

/** Every diff_id some image or some container still needs. */
export async function referencedLayers(dataRoot: string): Promise<Map<string, number>> {
  const refs = new Map<string, number>();
  const add = (d: string): void => void refs.set(d, (refs.get(d) ?? 0) + 1);
  for (const img of await listImages(dataRoot)) img.layers.forEach(add);
  for (const c of await listContainerRecords(dataRoot)) c.layers.forEach(add);
  return refs;
}
