// delete: a stopped (or, with --force, any) container back to nothing. From a full state, or from the
// intent of a create that never finished (killed at any instant): its processes killed through its
// cgroups, then its networks, cgroups and image root removed, the directory last. It reports success
// only when everything is gone; otherwise the directory stays, so that it can be run again.
import path = require('node:path');
import type { CgroupHandle } from '../../cgroups';
import { BerthError } from '../../util/errors';
import type { Attachment } from '../network';
import { DEFAULT_ROOT, NotFoundError, type StoredState } from '../state';
import type { CommonOptions } from '../status';
import type { Intent, Sys } from '../sys';
import { signalProcess } from './kill';
import { ociState } from './oci-state';
import { waitGone } from './wait';

export interface DeleteOptions extends CommonOptions {
  force?: boolean;
}

/** What a container holds outside its state directory. */
interface Held {
  cgroup?: CgroupHandle | null;
  image?: { dataRoot: string };
  networks?: Attachment[];
  /** the network namespace for CNI DEL ('' when the process never existed or is gone) */
  netns: string;
  /** the rootfs of a container without a mount namespace: its bind sits in the caller's */
  rootfsBind?: string;
}

export async function del(id: string, opts: DeleteOptions, sys: Sys): Promise<void> {
  const root = opts.root ?? DEFAULT_ROOT;
  let unlock: (removed?: boolean) => void;
  try {
    unlock = await sys.lock(root, id);
  } catch (e) {
    // runc: --force of an id that does not exist is not an error (a shim deletes after a failed create)
    if (e instanceof NotFoundError && opts.force) return;
    throw e;
  }
  let removed = false;
  try {
    let s: StoredState;
    try {
      s = await sys.readState(root, id);
    } catch (e) {
      if (!(e instanceof NotFoundError) || !opts.force) throw e;
      // a create that died half-way: its intent says what it may have made
      await removeUnfinished(sys, root, id, await sys.readIntent(root, id));
      removed = true;
      return;
    }
    const status = await sys.status(root, s);
    if ((status === 'running' || status === 'paused') && !opts.force) throw new BerthError(`cannot delete container ${id} that is not stopped: ${status}`);
    if (status !== 'stopped') {
      if (s.cgroup) {
        if (status === 'paused') await sys.cgroups.thaw(s.cgroup).catch(() => undefined);
        await sys.cgroups.killAll(s.cgroup, 9).catch(() => undefined);
      }
      try { signalProcess(sys, s, 9); } catch { /* already gone */ }
      if (!(await waitGone(sys, s, 10_000))) throw new BerthError(`container ${id}: process ${s.pid} did not exit after SIGKILL`);
    }
    await removeStopped(sys, root, s);
    removed = true;
  } finally {
    unlock(removed);
  }
}

/**
 * The intent of a create that never wrote its state: whatever joined its cgroups is killed there (the
 * pid may never have been recorded; a process that had not joined them yet exits when its parent's sync
 * socket closes), then everything the intent records is removed.
 */
async function removeUnfinished(sys: Sys, root: string, id: string, intent: Intent | undefined): Promise<void> {
  // the cgroups may not exist (killed before they were made): destroy() below tells whether any remain
  if (intent?.cgroup) await sys.cgroups.killAll(intent.cgroup, 9).catch(() => undefined);
  await removeHeld(sys, root, id, { cgroup: intent?.cgroup, image: intent?.image, networks: intent?.networks, netns: '', rootfsBind: intent?.rootfsBind });
}

/** The second half of delete, once the container's processes are gone; the caller holds the lock. */
export async function removeStopped(sys: Sys, root: string, s: StoredState): Promise<void> {
  await removeHeld(sys, root, s.id, {
    cgroup: s.cgroup, image: s.image, networks: s.networks, netns: `/proc/${s.pid}/ns/net`,
    rootfsBind: s.namespaces.includes('mount') ? undefined : s.rootfs,
  });
  await sys.runHooks(s.config.hooks?.poststop, ociState(s, 'stopped'), 'poststop').catch(() => undefined);
}

/** Every part is tried; the state directory goes only when all are gone, else one line names the rest. */
async function removeHeld(sys: Sys, root: string, id: string, held: Held): Promise<void> {
  const failed: string[] = [];
  const attempt = async (what: string, remove: () => Promise<void>): Promise<void> => {
    try {
      await remove();
    } catch (e) {
      failed.push(`${what} (${(e as Error).message.split('\n')[0]})`);
    }
  };
  if (held.networks?.length) await attempt('its networks', () => sys.detachNetworks(id, held.netns, held.networks!));
  const cgroup = held.cgroup;
  if (cgroup) await attempt('its cgroups', () => sys.cgroups.destroy(cgroup));
  const bind = held.rootfsBind;
  if (bind) await attempt('its rootfs bind', () => sys.releaseRootfsBind(bind));
  const image = held.image;
  if (image) await attempt('its image root', () => sys.releaseRootfs(image.dataRoot, id, path.resolve(root, id)));
  if (!failed.length) await attempt('its state directory', () => sys.removeContainerDir(root, id));
  if (failed.length) throw new BerthError(`container ${id}: could not remove ${failed.join(', ')}`);
}
