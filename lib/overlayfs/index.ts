// lib/overlayfs: image import into a content-addressed layer store, and overlay root filesystems.
// Modules here load only Node built-ins at import time; zlib is loaded by the import itself.
//
// Store layout under the data root (default /var/lib/berth):
//   layers/<diff_id hex>/      one extracted layer (built in layers/.tmp-*, renamed when verified)
//   l/<12 hex>                 -> ../layers/<hex>: short names, so many lowerdirs fit in a page of options
//   images/<name>.json         ImageRecord: config digest, manifest digest, config, diff_ids
//   containers/<id>/           rootfs.json (the layers it holds), upper/, work/, rootfs/ (the overlay mount)
//   .store.lock                flock: imports and mounts shared, gc and rm exclusive
// A layer is referenced by every image record and container record that lists it; gc removes the rest.
export { imageCommand, type ImageCommandOptions } from './image-cli';
export { importImage, type ImportOptions } from './import';
export { prepareRootfs, releaseRootfs } from './rootfs';
export { gcLayers } from './gc';
export { overlayMountOptions } from './mount-options';
export { findImage, listImages } from './images';
export { ImageError } from './errors';
export { DEFAULT_DATA_ROOT } from './paths';
export type { ImageConfig, ImageRecord } from './types';
