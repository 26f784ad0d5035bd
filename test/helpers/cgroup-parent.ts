// A cgroup parent for clients (containerd, podman) that place containers by absolute path: below our
// own cgroup in every hierarchy (on this hybrid host only memory puts us below the root), removed after.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { stopTestServers } from './frontend';

function ownMemoryCgroup(): string {
  for (const line of fs.readFileSync('/proc/self/cgroup', 'utf8').split('\n')) {
    const [, ctrls, p] = line.split(':');
    if (ctrls?.split(',').includes('memory')) return p;
  }
  // pure v2: the unified line "0::/path"
  const unified = fs.readFileSync('/proc/self/cgroup', 'utf8').split('\n').find((l) => l.startsWith('0::'));
  return unified ? unified.slice(3) : '/';
}

export function cgroupParent(name: string): string {
  return path.posix.join(ownMemoryCgroup(), name);
}

/** Removes the parent (and anything left below it) from every hierarchy, deepest first. */
export function removeCgroupParent(parent: string): void {
  for (const ctrl of fs.readdirSync('/sys/fs/cgroup')) {
    const dir = path.join('/sys/fs/cgroup', ctrl, parent);
    if (!fs.existsSync(dir)) continue;
    const dirs: string[] = [];
    const walk = (d: string) => {
      dirs.push(d);
      for (const e of fs.readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) walk(path.join(d, e.name));
    };
    walk(dir);
    // a berth server auto-started from inside (warm mode) inherited the cgroup: it must go first
    const pids = dirs.flatMap((d) => { try { return fs.readFileSync(path.join(d, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number); } catch { return []; } });
    if (pids.length) stopTestServers(pids);
    for (const d of dirs.reverse()) {
      try { fs.rmdirSync(d); } catch { /* busy: reported by the test's own checks */ }
    }
  }
}
