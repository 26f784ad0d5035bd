// `--pod NAME` on create and run: the pod's namespaces, by the pause process's /proc/PID/ns paths, in place
// of the config's own; the pod's /etc/hosts and /etc/resolv.conf; the annotation `pod rm` finds members by.
import fs = require('node:fs');
import path = require('node:path');
import * as c from '../runtime/container';
import type { Joined } from '../runtime/lifecycle/create';
import type { Mount, NamespaceType } from '../runtime/spec/types';
import { containerDir } from '../runtime/state';
import { BerthError } from '../util/errors';
import { NS_FILE, sharedNamespaces } from './pod';
import { POD_ANNOTATION, readPod } from './store';

export async function podJoin(root: string, name: string): Promise<Joined> {
  const rec = await readPod(root, name);
  let pid = 0;
  try {
    const s = await c.state(rec.pause, { root });
    if (s.status === 'running') pid = s.pid;
  } catch { /* gone: reported below */ }
  if (!pid) throw new BerthError(`pod "${name}" has no running pause container: remove it and create it again`, { field: '--pod' });
  const mounts: Mount[] = [];
  if (rec.network.mode === 'cni') {
    for (const file of ['hosts', 'resolv.conf']) {
      const source = path.join(containerDir(root, rec.pause), file);
      if (fs.existsSync(source)) mounts.push({ destination: `/etc/${file}`, type: 'bind', source, options: ['rbind', 'ro', 'rprivate'] });
    }
  }
  return {
    namespaces: sharedNamespaces(rec).map((type) => ({ type: type as NamespaceType, path: `/proc/${pid}/ns/${NS_FILE[type]}` })),
    // a host-network pod: its members too are in the caller's network namespace
    drop: rec.network.mode === 'host' ? ['network'] : [],
    mounts,
    annotations: { [POD_ANNOTATION]: name },
  };
}
