// Checks a config.json before anything is created, so bad input fails with the field named and
// leaves nothing behind. The kernel still has the last word; this catches what we can know up front.
import * as path from 'node:path';
import { ConfigError } from '../../util/errors';
import type { NamespaceType, Spec } from './types';

const NAMESPACE_TYPES: NamespaceType[] = ['pid', 'network', 'mount', 'ipc', 'uts', 'user', 'cgroup', 'time'];
const PROPAGATIONS = ['private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave', 'unbindable', 'runbindable'];
const CONTAINER_ID = /^[\w+\-.]+$/;

export function validateContainerId(id: string): void {
  if (!id) throw new ConfigError('id', 'container id cannot be empty');
  if (!CONTAINER_ID.test(id) || id === '.' || id === '..') throw new ConfigError('id', `invalid container id format: ${id}`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkInt(v: unknown, field: string, min = 0, max = 2 ** 32 - 1): void {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw new ConfigError(field, `must be an integer from ${min} to ${max}`);
}

/** Parses config.json text; names the position of a syntax error. */
export function parseSpec(text: string, file = 'config.json'): Spec {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(file, `invalid JSON: ${(e as Error).message}`);
  }
  if (!isObject(raw)) throw new ConfigError(file, 'must be a JSON object');
  return raw as unknown as Spec;
}

/** Validates what create needs. `forCreate` also requires process and root. */
export function validateSpec(spec: Spec): void {
  if (typeof spec.ociVersion !== 'string' || !spec.ociVersion) throw new ConfigError('ociVersion', 'missing');
  const proc = spec.process;
  if (!isObject(proc)) throw new ConfigError('process', 'missing: a container needs a process');
  if (!Array.isArray(proc.args) || proc.args.length === 0) throw new ConfigError('process.args', 'must name the program to run');
  if (typeof proc.cwd !== 'string' || !path.isAbsolute(proc.cwd)) throw new ConfigError('process.cwd', 'must be an absolute path');
  if (!isObject(proc.user)) throw new ConfigError('process.user', 'missing');
  checkInt(proc.user.uid, 'process.user.uid');
  checkInt(proc.user.gid, 'process.user.gid');
  (proc.user.additionalGids ?? []).forEach((g, i) => checkInt(g, `process.user.additionalGids[${i}]`));
  if (proc.user.umask !== undefined) checkInt(proc.user.umask, 'process.user.umask', 0, 0o777);
  if (proc.env !== undefined && (!Array.isArray(proc.env) || proc.env.some((e) => typeof e !== 'string')))
    throw new ConfigError('process.env', 'must be an array of strings');
  if (proc.oomScoreAdj !== undefined) checkInt(proc.oomScoreAdj, 'process.oomScoreAdj', -1000, 1000);
  if (proc.apparmorProfile) throw new ConfigError('process.apparmorProfile', 'AppArmor is not supported by berth on this host');
  if (proc.selinuxLabel) throw new ConfigError('process.selinuxLabel', 'SELinux is not supported by berth on this host');
  if (!isObject(spec.root) || typeof spec.root.path !== 'string' || !spec.root.path) throw new ConfigError('root.path', 'missing');

  const linux = spec.linux ?? {};
  const seen = new Set<string>();
  (linux.namespaces ?? []).forEach((ns, i) => {
    const field = `linux.namespaces[${i}]`;
    if (!NAMESPACE_TYPES.includes(ns.type)) throw new ConfigError(`${field}.type`, `unknown namespace type "${ns.type}"`);
    if (seen.has(ns.type)) throw new ConfigError(`${field}.type`, `duplicate namespace "${ns.type}"`);
    seen.add(ns.type);
    if (ns.path !== undefined && (typeof ns.path !== 'string' || !path.isAbsolute(ns.path)))
      throw new ConfigError(`${field}.path`, 'must be an absolute path');
  });
  const has = (t: NamespaceType) => seen.has(t);
  const newUserns = (linux.namespaces ?? []).some((n) => n.type === 'user' && !n.path);
  // Without a mount namespace the container's mounts are made in the caller's (runtime-spec: inherited);
  // runc refuses masks and read-only paths there, with this message.
  if (!has('mount') && (linux.maskedPaths?.length || linux.readonlyPaths?.length))
    throw new ConfigError(linux.maskedPaths?.length ? 'linux.maskedPaths' : 'linux.readonlyPaths', 'unable to restrict sys entries without a private mount namespace');
  if ((linux.uidMappings?.length || linux.gidMappings?.length) && !newUserns)
    throw new ConfigError(linux.uidMappings?.length ? 'linux.uidMappings' : 'linux.gidMappings', 'mappings need a new user namespace in linux.namespaces');
  if (newUserns && (!linux.uidMappings?.length || !linux.gidMappings?.length))
    throw new ConfigError('linux.uidMappings', 'a new user namespace needs uidMappings and gidMappings');
  for (const key of ['uidMappings', 'gidMappings'] as const) {
    (linux[key] ?? []).forEach((m, i) => {
      checkInt(m.containerID, `linux.${key}[${i}].containerID`);
      checkInt(m.hostID, `linux.${key}[${i}].hostID`);
      checkInt(m.size, `linux.${key}[${i}].size`, 1);
    });
  }
  if (spec.hostname && !has('uts')) throw new ConfigError('hostname', 'setting the hostname needs a uts namespace');
  if (spec.domainname && !has('uts')) throw new ConfigError('domainname', 'setting the domainname needs a uts namespace');
  if (linux.timeOffsets && !has('time')) throw new ConfigError('linux.timeOffsets', 'time offsets need a time namespace');
  for (const key of Object.keys(linux.sysctl ?? {})) {
    if (key.startsWith('net.') && !has('network')) throw new ConfigError(`linux.sysctl.${key}`, 'net.* sysctls need a network namespace');
    if ((key.startsWith('kernel.msg') || key.startsWith('kernel.sem') || key.startsWith('kernel.shm') || key.startsWith('fs.mqueue.')) && !has('ipc'))
      throw new ConfigError(`linux.sysctl.${key}`, 'IPC sysctls need an ipc namespace');
  }
  if (linux.rootfsPropagation && !PROPAGATIONS.includes(linux.rootfsPropagation))
    throw new ConfigError('linux.rootfsPropagation', `unknown propagation "${linux.rootfsPropagation}"`);
  (spec.mounts ?? []).forEach((m, i) => {
    if (typeof m.destination !== 'string' || !m.destination.startsWith('/'))
      throw new ConfigError(`mounts[${i}].destination`, 'must be an absolute path inside the container');
  });
  (linux.devices ?? []).forEach((d, i) => {
    const field = `linux.devices[${i}]`;
    if (!['c', 'b', 'u', 'p'].includes(d.type)) throw new ConfigError(`${field}.type`, `unknown device type "${d.type}"`);
    if (typeof d.path !== 'string' || !d.path.startsWith('/dev/')) throw new ConfigError(`${field}.path`, 'must be a path under /dev');
    if (d.type !== 'p') { checkInt(d.major, `${field}.major`); checkInt(d.minor, `${field}.minor`); }
  });
  if (linux.mountLabel) throw new ConfigError('linux.mountLabel', 'SELinux is not supported by berth on this host');
  if (linux.intelRdt) throw new ConfigError('linux.intelRdt', 'Intel RDT is not supported by berth');
  for (const [kind, hooks] of Object.entries(spec.hooks ?? {})) {
    (hooks as { path: string; timeout?: number }[]).forEach((h, i) => {
      if (typeof h.path !== 'string' || !path.isAbsolute(h.path)) throw new ConfigError(`hooks.${kind}[${i}].path`, 'must be an absolute path');
      if (h.timeout !== undefined) checkInt(h.timeout, `hooks.${kind}[${i}].timeout`, 1);
    });
  }
}
