// Turns linux.cgroupsPath into one directory per hierarchy (runc's cgroupfs placement rules).
import path = require('node:path');
import { ConfigError } from '../util/errors';
import type { Hierarchies } from './hierarchy';

/** Checks the path is a plain path: no "..", no NUL, so it cannot climb out of the hierarchy. */
function checkCgroupsPath(p: string): void {
  if (p.includes('\0')) throw new ConfigError('linux.cgroupsPath', 'contains a NUL byte');
  if (p.split('/').includes('..')) throw new ConfigError('linux.cgroupsPath', `"${p}" must not contain ".."`);
}

function checkContainerId(id: string): void {
  if (!id || id.includes('/') || id === '.' || id === '..' || id.includes('\0')) {
    throw new ConfigError('id', `"${id}" cannot name a cgroup directory`);
  }
}

/** The path below a hierarchy's mount point, given our own cgroup there. */
export function relativeCgroupPath(cgroupsPath: string | undefined, containerId: string, own: string): string {
  if (cgroupsPath) {
    checkCgroupsPath(cgroupsPath);
    return path.posix.isAbsolute(cgroupsPath) ? path.posix.normalize(cgroupsPath) : path.posix.join(own, cgroupsPath);
  }
  checkContainerId(containerId);
  return path.posix.join(own, 'berth', containerId);
}

const under = (mount: string, rel: string): string => path.posix.join(mount, rel).replace(/(.)\/+$/, '$1');

/** controller (or 'unified') -> absolute directory; co-mounted v1 controllers get the same directory. */
export function resolvePaths(h: Hierarchies, cgroupsPath: string | undefined, containerId: string): Record<string, string> {
  const paths: Record<string, string> = {};
  for (const [ctrl, mount] of Object.entries(h.v1)) {
    paths[ctrl] = under(mount, relativeCgroupPath(cgroupsPath, containerId, h.own[ctrl] ?? '/'));
  }
  if (h.unified !== undefined) {
    paths.unified = under(h.unified, relativeCgroupPath(cgroupsPath, containerId, h.own[''] ?? '/'));
  }
  const top = Object.entries(paths).find(([ctrl, dir]) => dir === (ctrl === 'unified' ? h.unified : h.v1[ctrl]));
  if (top) throw new ConfigError('linux.cgroupsPath', `"${cgroupsPath ?? ''}" resolves to the root cgroup of ${top[0]}`);
  return paths;
}

/** Distinct directories of a handle (co-mounted controllers share one). */
export function distinctDirs(paths: Record<string, string>): string[] {
  return [...new Set(Object.values(paths))];
}
