// Mounts at and below a directory in the test's own mount namespace (containers without a mount
// namespace make theirs there), and their removal.
import * as path from 'node:path';
import { MNT_DETACH, native } from '../../lib/sys/native';
import { readMountinfo } from '../../lib/util/mountinfo';

/** Mount points at or below dir, relative to it ("/" for dir itself), sorted. */
export function mountsBelow(dir: string): string[] {
  return readMountinfo().map((m) => m.mountPoint).filter((p) => p === dir || p.startsWith(`${dir}/`)).map((p) => `/${path.relative(dir, p)}`).sort();
}

/** Detaches everything at and below dir (what runc leaves after a container without a mount namespace). */
export function detachAll(dir: string): void {
  for (let m = mountsBelow(dir); m.length; m = mountsBelow(dir)) native().umount2(path.join(dir, m[m.length - 1]), MNT_DETACH);
}
