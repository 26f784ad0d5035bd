// Where the cgroup hierarchies are mounted and where this process sits in each. Probed once, cached:
// a CLI run is short and neither changes under it.
import fs = require('node:fs');
import type { CgroupLayout } from './types';

/** v1 controllers berth knows how to use. */
export const V1_CONTROLLERS = [
  'cpu', 'cpuacct', 'cpuset', 'memory', 'devices', 'freezer', 'blkio', 'pids', 'hugetlb',
  'net_cls', 'net_prio', 'perf_event', 'rdma', 'misc',
] as const;

/**
 * The one named v1 hierarchy a container gets its own cgroup in, as runc does (systemd in a container on a
 * v1 or hybrid host needs it); other named hierarchies are left alone. Its key in every map is the option.
 */
export const SYSTEMD_HIERARCHY = 'name=systemd';

export interface Hierarchies {
  layout: CgroupLayout;
  /** v1 controller (or SYSTEMD_HIERARCHY) -> mount point (co-mounted controllers share one) */
  v1: Record<string, string>;
  /** the cgroup2 mount point, when there is one */
  unified?: string;
  /** our own cgroup per v1 controller, and '' for the v2 tree (from /proc/self/cgroup) */
  own: Record<string, string>;
}

let cached: Hierarchies | undefined;

/** Parses /proc/self/mountinfo text into v1 controller mounts and the cgroup2 mount. */
export function parseMountinfo(text: string): { v1: Record<string, string>; unified?: string } {
  const v1: Record<string, string> = {};
  let unified: string | undefined;
  for (const line of text.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const pre = line.slice(0, sep).split(' ');
    const [fstype, , superOpts = ''] = line.slice(sep + 3).split(' ');
    const root = pre[3];
    const mountPoint = pre[4]?.replace(/\\040/g, ' ');
    if (!mountPoint) continue;
    if (fstype === 'cgroup2') {
      // prefer the conventional place when cgroup2 is mounted more than once
      if (unified === undefined || mountPoint === '/sys/fs/cgroup' || mountPoint === '/sys/fs/cgroup/unified') unified = mountPoint;
    } else if (fstype === 'cgroup' && root === '/') {
      for (const opt of superOpts.split(',')) {
        if (((V1_CONTROLLERS as readonly string[]).includes(opt) || opt === SYSTEMD_HIERARCHY) && !v1[opt]) v1[opt] = mountPoint;
      }
    }
  }
  return { v1, unified };
}

/** Parses /proc/self/cgroup: "N:ctrl1,ctrl2:/path" lines; the v2 entry is "0::/path" (key ''). */
export function parseProcCgroup(text: string): Record<string, string> {
  const own: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^\d+:([^:]*):(.*)$/.exec(line);
    if (!m) continue;
    if (m[1] === '') own[''] = m[2];
    else for (const c of m[1].split(',')) own[c] = m[2];
  }
  return own;
}

export function hierarchies(): Hierarchies {
  if (cached) return cached;
  const { v1, unified } = parseMountinfo(fs.readFileSync('/proc/self/mountinfo', 'utf8'));
  const own = parseProcCgroup(fs.readFileSync('/proc/self/cgroup', 'utf8'));
  let layout: CgroupLayout;
  // the brief's rule: a pure v2 host has cgroup.controllers at the top of /sys/fs/cgroup
  if (fs.existsSync('/sys/fs/cgroup/cgroup.controllers')) layout = 'v2';
  else if (unified !== undefined && Object.keys(v1).length > 0) layout = 'hybrid';
  else layout = 'v1';
  if (layout === 'v2') {
    cached = { layout, v1: {}, unified: unified ?? '/sys/fs/cgroup', own };
  } else {
    cached = { layout, v1, unified: layout === 'hybrid' ? unified : undefined, own };
  }
  return cached;
}

/** Probe /sys/fs/cgroup once (cached). */
export function detectLayout(): CgroupLayout {
  return hierarchies().layout;
}
