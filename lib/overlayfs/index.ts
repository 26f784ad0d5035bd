// lib/overlayfs: image import into a content-addressed layer store, and overlay root filesystems.
// Modules here load only Node built-ins at import time; tar-stream and zlib are loaded by the import itself.
export { imageCommand, type ImageCommandOptions } from './cli';
export { importImage, type ImportOptions } from './import';
export { prepareRootfs, releaseRootfs } from './rootfs';
export { gcLayers } from './gc';
export { overlayMountOptions } from './mount-options';
export { findImage, listImages } from './images';
export { ImageError } from './errors';
export { DEFAULT_DATA_ROOT } from './paths';
export type { ImageConfig, ImageRecord } from './types';
