// Which sysctls a container may set: only those namespaced in a namespace the container has of its own,
// or the write lands in the host's /proc/sys. runc's list and wording (libcontainer/configs/validate).
import fs = require('node:fs');
import { ConfigError } from '../../util/errors';
import { memberField } from './typecheck';
import type { Namespace } from './types';

const IPC_SYSCTLS = new Set([
  'kernel.msgmax', 'kernel.msgmnb', 'kernel.msgmni', 'kernel.sem', 'kernel.shmall', 'kernel.shmmax', 'kernel.shmmni', 'kernel.shm_rmid_forced',
]);

/** sysctl(8) also takes `net/ipv4/ip_forward`: with '/' first, '/' and '.' swap roles (as runc reads it). */
export function dottedSysctl(key: string): string {
  const first = key.search(/[./]/);
  if (first < 0 || key[first] === '.') return key;
  return key.replace(/[./]/g, (c) => (c === '.' ? '/' : '.'));
}

/** "host" means the namespace berth itself runs in, as runc: a path that names our own netns is the host's. */
function isOwnNetns(nsPath: string): boolean {
  let own: fs.Stats;
  let given: fs.Stats;
  try {
    own = fs.statSync('/proc/self/ns/net');
    given = fs.statSync(nsPath);
  } catch (e) {
    throw new ConfigError('linux.namespaces', `invalid netns path: ${(e as Error).message}`);
  }
  return own.dev === given.dev && own.ino === given.ino;
}

export function validateSysctls(sysctl: Record<string, string>, namespaces: Namespace[], field = 'linux.sysctl'): void {
  const keys = Object.keys(sysctl);
  if (!keys.length) return;
  const ns = new Map(namespaces.map((n) => [n.type, n]));
  let hostNet: boolean | undefined;
  for (const key of keys) {
    const s = dottedSysctl(key);
    const fail = (message: string): never => { throw new ConfigError(memberField(field, key), message); };
    const q = JSON.stringify(s);
    if (IPC_SYSCTLS.has(s) || s.startsWith('fs.mqueue.')) {
      if (!ns.has('ipc')) fail(`sysctl ${q} is not allowed in the hosts ipc namespace`);
      continue;
    }
    if (s.startsWith('net.')) {
      const net = ns.get('network');
      hostNet ??= !net || (net.path ? isOwnNetns(net.path) : false);
      if (hostNet) fail(`sysctl ${q} not allowed in host network namespace`);
      continue;
    }
    if (ns.has('uts')) {
      if (s === 'kernel.domainname') continue; // namespaced, and no OCI field of its own
      if (s === 'kernel.hostname') fail(`sysctl ${q} is not allowed as it conflicts with the OCI "hostname" field`);
    }
    // /proc/sys/user holds the ucounts of the writer's user namespace (runc 1.2 and later accept these)
    if (s.startsWith('user.')) {
      if (!ns.has('user')) fail(`setting ucounts without a user namespace not allowed: ${s}`);
      continue;
    }
    fail(`sysctl ${q} is not in a separate kernel namespace`);
  }
}
