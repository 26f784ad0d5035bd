// Where everything lives under the data root. One place, so gc and import agree on the layout.
import path = require('node:path');

export const DEFAULT_DATA_ROOT = '/var/lib/berth';

/** Length of the names in l/: short so that many lowerdirs fit in one page of mount options. */
export const SHORT_ID_LENGTH = 12;

export interface StorePaths {
  root: string;
  layers: string;
  /** l/<short-id> -> ../layers/<hex>: the short names used in lowerdir= */
  links: string;
  images: string;
  containers: string;
  lock: string;
}

export function storePaths(dataRoot: string): StorePaths {
  const root = path.resolve(dataRoot);
  return {
    root,
    layers: path.join(root, 'layers'),
    links: path.join(root, 'l'),
    images: path.join(root, 'images'),
    containers: path.join(root, 'containers'),
    lock: path.join(root, '.store.lock'),
  };
}

/** "sha256:abc..." -> "abc..." (the store only holds sha256). */
export function digestHex(digest: string): string {
  return digest.slice(digest.indexOf(':') + 1);
}

export function layerDir(dataRoot: string, diffId: string): string {
  return path.join(storePaths(dataRoot).layers, digestHex(diffId));
}

export function shortId(diffId: string): string {
  return digestHex(diffId).slice(0, SHORT_ID_LENGTH);
}

export function containerDir(dataRoot: string, containerId: string): string {
  return path.join(storePaths(dataRoot).containers, containerId);
}

/** Image names may hold '/' and ':' (registry/repo:tag): encode them into one file name. */
export function imageFile(dataRoot: string, name: string): string {
  return path.join(storePaths(dataRoot).images, `${encodeURIComponent(name)}.json`);
}
