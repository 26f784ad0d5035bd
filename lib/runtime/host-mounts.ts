// A container without a mount namespace of its own makes its mounts in the caller's: the bootstrap binds
// the rootfs on itself and mounts everything else below that bind (native/src/bootstrap_rootfs.c), and
// nothing unmounts them when the container's processes exit. delete (and a create that failed) detaches
// that bind, which takes every mount below it along.
import fs = require('node:fs');
import path = require('node:path');
import { MNT_DETACH, native } from '../sys/native';
import { type MountEntry, readMountinfo } from '../util/mountinfo';

/**
 * The bootstrap's bind: the topmost mount at the rootfs path, and a bind of exactly the directory it covers
 * (same filesystem as the mount below it, rooted where that one shows the rootfs). A mount someone else put
 * there (the overlay of an image, containerd's rootfs) is of another filesystem or rooted elsewhere.
 */
export function rootfsSelfBind(mounts: MountEntry[], rootfs: string): MountEntry | undefined {
  const here = mounts.filter((m) => m.mountPoint === rootfs);
  const top = here.find((m) => !here.some((o) => o.parent === m.id));
  const below = top && mounts.find((m) => m.id === top.parent);
  if (!top || !below || below.dev !== top.dev) return undefined;
  return top.root === path.posix.join(below.root, path.posix.relative(below.mountPoint, rootfs)) ? top : undefined;
}

/** Detaches the container's rootfs bind from the caller's mount namespace, if it is still there. */
export function releaseRootfsBind(rootfs: string): void {
  let real: string;
  try {
    real = fs.realpathSync(rootfs);
  } catch {
    return; // the rootfs is gone, and its mounts with it
  }
  if (rootfsSelfBind(readMountinfo(), real)) native().umount2(real, MNT_DETACH);
}
