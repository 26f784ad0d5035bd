// Container root filesystems: an overlay of the image's layers (read-only, shared) with a per-container
// upper and work dir under containers/<id>/. The container record references the layers until release.
import fs = require('node:fs');
import fsp = require('node:fs/promises');
import path = require('node:path');
import { MNT_DETACH, native } from '../sys/native';
import { errnoCode, SyscallError } from '../util/errors';
import { writeFileAtomic } from '../util/fs';
import { ImageError } from './errors';
import { findImage } from './images';
import { ensureLink, ensureStore, hasLayer } from './layer-store';
import { withStoreLock } from './lock';
import { isMountPoint } from '../util/mountinfo';
import { MOUNT_DATA_MAX, overlayMountOptions } from './mount-options';
import { containerDir, storePaths } from './paths';
import type { ContainerRootfsRecord, ImageConfig } from './types';

const CONTAINER_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

function checkContainerId(id: string): void {
  if (!CONTAINER_ID.test(id)) throw new ImageError(`invalid container id ${JSON.stringify(id)}`);
}

/**
 * Mounts with absolute short links when they fit in a page; otherwise from inside the data root with
 * relative names (overlayfs resolves them against the mounting process's cwd, at mount time).
 */
function mountOverlay(root: string, links: string[], upper: string, work: string, target: string): void {
  const absolute = overlayMountOptions(links, upper, work);
  if (Buffer.byteLength(absolute) <= MOUNT_DATA_MAX) {
    native().mount('overlay', target, 'overlay', 0, absolute);
    return;
  }
  const rel = (p: string): string => path.relative(root, p);
  const relative = overlayMountOptions(links.map(rel), rel(upper), rel(work));
  if (Buffer.byteLength(relative) > MOUNT_DATA_MAX) {
    throw new ImageError(`overlay: ${links.length} layers do not fit in one page of mount options`);
  }
  const cwd = process.cwd();
  process.chdir(root);
  try {
    native().mount('overlay', target, 'overlay', 0, relative);
  } finally {
    process.chdir(cwd);
  }
}

/** `owner`: the runtime's state directory of the container, recorded for gc (ContainerRootfsRecord). */
export async function prepareRootfs(dataRoot: string, image: string, containerId: string, owner?: string): Promise<{ rootfs: string; config: ImageConfig }> {
  checkContainerId(containerId);
  await ensureStore(dataRoot);
  return withStoreLock(dataRoot, 'shared', async () => {
    const record = await findImage(dataRoot, image);
    if (record.layers.length === 0) throw new ImageError(`image ${record.name} has no layers`);
    const dir = containerDir(dataRoot, containerId);
    if (fs.existsSync(path.join(dir, 'rootfs.json'))) throw new ImageError(`container ${containerId} already has a root filesystem`);
    const links: string[] = [];
    for (const diffId of [...record.layers].reverse()) {
      if (!hasLayer(dataRoot, diffId)) throw new ImageError(`image ${record.name}: layer ${diffId} is missing from the store`);
      links.push(await ensureLink(dataRoot, diffId));
    }
    const rootfs = path.join(dir, 'rootfs');
    const upper = path.join(dir, 'upper');
    const work = path.join(dir, 'work');
    try {
      for (const d of [dir, upper, work, rootfs]) await fsp.mkdir(d, { recursive: true, mode: 0o700 });
      await fsp.chmod(rootfs, 0o755);
      await fsp.chmod(upper, 0o755); // the merged root directory shows the upper dir's mode
      const rec: ContainerRootfsRecord = { id: containerId, image: record.name, imageId: record.id, layers: record.layers, rootfs, ...(owner ? { owner } : {}) };
      // the reference is written before the mount: gc must never see a mounted layer as unused
      await writeFileAtomic(path.join(dir, 'rootfs.json'), `${JSON.stringify(rec, null, 2)}\n`);
      try {
        mountOverlay(storePaths(dataRoot).root, links, upper, work, rootfs);
      } catch (e) {
        throw new SyscallError('mount overlay', errnoCode(e) ?? String(e), `on ${rootfs}`);
      }
    } catch (e) {
      await fsp.rm(dir, { recursive: true, force: true });
      throw e;
    }
    return { rootfs, config: record.config };
  });
}

function unmountAll(target: string): void {
  for (let i = 0; i < 16 && isMountPoint(target); i++) {
    try {
      native().umount2(target, 0);
    } catch (e) {
      const code = errnoCode(e);
      if (code === 'EINVAL' || code === 'ENOENT') return;
      // busy (a process still has its cwd there): detach now, the kernel frees it when the last user goes
      if (code !== 'EBUSY') throw new SyscallError('umount', code ?? String(e), target);
      native().umount2(target, MNT_DETACH);
    }
  }
  if (isMountPoint(target)) throw new ImageError(`${target} is still mounted`);
}

/**
 * Unmounts and removes containers/<id>. With `owner`, only a root that owner prepared (or one whose
 * prepare died before recording anything): another runtime root sharing this store may use the same id.
 */
export async function releaseRootfs(dataRoot: string, containerId: string, owner?: string): Promise<void> {
  checkContainerId(containerId);
  const dir = containerDir(dataRoot, containerId);
  if (!fs.existsSync(dir)) return;
  if (owner) {
    const rec = await readRecord(dir);
    if (rec?.owner !== undefined && rec.owner !== owner) return;
  }
  await removeContainerRoot(dir);
}

/** The record of containers/<id>, or undefined when a prepare died before writing it. */
export async function readRecord(dir: string): Promise<ContainerRootfsRecord | undefined> {
  try {
    return JSON.parse(await fsp.readFile(path.join(dir, 'rootfs.json'), 'utf8')) as ContainerRootfsRecord;
  } catch (e) {
    if (errnoCode(e) === 'ENOENT' || errnoCode(e) === 'ENOTDIR' || e instanceof SyntaxError) return undefined;
    throw e;
  }
}

export async function removeContainerRoot(dir: string): Promise<void> {
  unmountAll(path.join(dir, 'rootfs'));
  // removing the directory drops the container's references (rootfs.json) together with upper and work
  await fsp.rm(dir, { recursive: true, force: true });
}
