// The pod's sandbox container: berth-pause (native/src/pause.c) alone in a rootfs, holding the pod's
// namespaces. Only /proc mounted, no capabilities, an unprivileged user: it only waits and reaps.
import fs = require('node:fs');
import path = require('node:path');
import { BerthError } from '../util/errors';
import { installRoot } from '../util/install';
import type { Namespace, Spec } from '../runtime/spec/types';

export function pauseBinary(): string {
  const file = process.env.BERTH_PAUSE ?? path.join(installRoot(), 'native', 'build', 'Release', 'berth-pause');
  if (!fs.existsSync(file)) throw new BerthError(`${file} not found: run npm run build (or set BERTH_PAUSE)`, { field: 'pause binary' });
  return file;
}

/** Copies the pause binary into <dir>/rootfs/pause (a copy: the container never sees the install tree). */
export function makePauseRootfs(dir: string): void {
  const rootfs = path.join(dir, 'rootfs');
  fs.mkdirSync(rootfs, { mode: 0o755 });
  fs.copyFileSync(pauseBinary(), path.join(rootfs, 'pause'));
  fs.chmodSync(path.join(rootfs, 'pause'), 0o755);
}

/** network: a new namespace, the caller's (host), or the one at a path (another container's) */
export function pauseSpec(name: string, opts: { network: 'new' | 'host' | { path: string } }): Spec {
  const namespaces: Namespace[] = [{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }];
  if (opts.network === 'new') namespaces.push({ type: 'network' });
  else if (opts.network !== 'host') namespaces.push({ type: 'network', path: opts.network.path });
  return {
    ociVersion: '1.0.2',
    process: {
      terminal: false, user: { uid: 65535, gid: 65535 }, args: ['/pause'], env: [], cwd: '/',
      capabilities: { bounding: [], effective: [], permitted: [], ambient: [] }, noNewPrivileges: true,
    },
    root: { path: 'rootfs', readonly: true },
    hostname: name,
    // the bootstrap reaches the exec fifo through /proc once in the rootfs
    mounts: [{ destination: '/proc', type: 'proc', source: 'proc' }],
    annotations: { 'io.berth.pod.pause': name },
    linux: { namespaces, maskedPaths: [], readonlyPaths: [] },
  };
}
