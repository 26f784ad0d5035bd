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
    // a client's helpers (podman's conmon) may still be exiting: a busy directory gets a few seconds
    const deadline = Date.now() + 5000;
    for (const d of dirs.reverse()) {
      for (;;) {
        try { fs.rmdirSync(d); break; } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'EBUSY' || Date.now() > deadline) break; // reported by the test's own checks
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
        }
      }
    }
  }
}
