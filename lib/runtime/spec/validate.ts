// Checks a config.json before anything is created, so bad input fails with the field named and
// leaves nothing behind. The kernel still has the last word; this catches what we can know up front.
import path = require('node:path');
import { ConfigError } from '../../util/errors';
import { isBindMount } from '../mount-options';
import { HOOK_KINDS } from './schema';
import { validateSysctls } from './sysctl';
import { checkProcessTypes, checkSpecTypes } from './typecheck';
import type { IdMapping, NamespaceType, Process, Spec } from './types';

const NAMESPACE_TYPES: NamespaceType[] = ['pid', 'network', 'mount', 'ipc', 'uts', 'user', 'cgroup', 'time'];
const PROPAGATIONS = ['private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave', 'unbindable', 'runbindable'];
const CONTAINER_ID = /^[\w+\-.]+$/;
/** (uid_t)-1: setresuid and chown read it as "leave unchanged" */
const ID_LIMIT = 2 ** 32 - 1;

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

/**
 * What create and exec need of a process. Like Go's decoder (what runc reads), an absent or null user is
 * uid 0 and gid 0: the spec object is completed in place.
 */
export function validateProcess(proc: Process | undefined | null, field = 'process'): asserts proc is Process {
  checkProcessTypes(proc, field);
  checkProcessValues(proc!, field);
}

function checkProcessValues(proc: Process, field: string): void {
  if (!proc.args?.length) throw new ConfigError(`${field}.args`, 'must name the program to run');
  if (!path.isAbsolute(proc.cwd)) throw new ConfigError(`${field}.cwd`, 'must be an absolute path');
  const user = (proc.user ??= { uid: 0, gid: 0 });
  user.uid ??= 0;
  user.gid ??= 0;
  if (user.umask !== undefined) checkInt(user.umask, `${field}.user.umask`, 0, 0o777);
  if (proc.oomScoreAdj !== undefined) checkInt(proc.oomScoreAdj, `${field}.oomScoreAdj`, -1000, 1000);
  if (proc.apparmorProfile) throw new ConfigError(`${field}.apparmorProfile`, 'AppArmor is not supported by berth on this host');
  if (proc.selinuxLabel) throw new ConfigError(`${field}.selinuxLabel`, 'SELinux is not supported by berth on this host');
}

/** The kernel refuses a uid/gid map range that reaches 4294967295, (uid_t)-1: say so naming the field. */
function checkMappingRange(m: IdMapping, field: string): void {
  if (m.size < 1) throw new ConfigError(`${field}.size`, 'must be at least 1');
  for (const key of ['containerID', 'hostID'] as const) {
    if (m[key] + m.size > ID_LIMIT)
      throw new ConfigError(field, `${key} ${m[key]} + size ${m.size} reaches ${ID_LIMIT} ((uid_t)-1), which no mapping may include`);
  }
}

/**
 * Validates what create needs: every field's type against the runtime-spec schema (null optional fields
 * are removed, as Go reads them), then what berth and runc require of the values.
 */
export function validateSpec(spec: Spec): void {
  checkSpecTypes(spec);
  if (!spec.ociVersion) throw new ConfigError('ociVersion', 'missing');
  if (!spec.process) throw new ConfigError('process', 'missing: a container needs a process');
  checkProcessValues(spec.process, 'process');
  if (!isObject(spec.root) || typeof spec.root.path !== 'string' || !spec.root.path) throw new ConfigError('root.path', 'missing');

  const linux = spec.linux ?? {};
  const seen = new Set<string>();
  (linux.namespaces ?? []).forEach((ns, i) => {
    const field = `linux.namespaces[${i}]`;
    if (!NAMESPACE_TYPES.includes(ns.type)) throw new ConfigError(`${field}.type`, `unknown namespace type ${JSON.stringify(ns.type)}`);
    if (seen.has(ns.type)) throw new ConfigError(`${field}.type`, `duplicate namespace ${JSON.stringify(ns.type)}`);
    seen.add(ns.type);
    if (ns.path !== undefined && !path.isAbsolute(ns.path))
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
    (linux[key] ?? []).forEach((m, i) => checkMappingRange(m, `linux.${key}[${i}]`));
  }
  if (spec.hostname && !has('uts')) throw new ConfigError('hostname', 'setting the hostname needs a uts namespace');
  if (spec.domainname && !has('uts')) throw new ConfigError('domainname', 'setting the domainname needs a uts namespace');
  if (linux.timeOffsets && !has('time')) throw new ConfigError('linux.timeOffsets', 'time offsets need a time namespace');
  if (linux.sysctl) validateSysctls(linux.sysctl, linux.namespaces ?? []);
  if (linux.rootfsPropagation && !PROPAGATIONS.includes(linux.rootfsPropagation))
    throw new ConfigError('linux.rootfsPropagation', `unknown propagation ${JSON.stringify(linux.rootfsPropagation)}`);
  (spec.mounts ?? []).forEach((m, i) => {
    if (!m.destination.startsWith('/'))
      throw new ConfigError(`mounts[${i}].destination`, 'must be an absolute path inside the container');
    // known before anything is mounted (the bootstrap refuses the same, for a plan built elsewhere)
    if (m.destination.includes('proc') && path.posix.normalize(m.destination).replace(/(.)\/+$/, '$1') === '/proc' && (isBindMount(m) || m.type !== 'proc'))
      throw new ConfigError(`mounts[${i}]`, 'mount /proc may only receive a procfs mount');
  });
  (linux.devices ?? []).forEach((d, i) => {
    const field = `linux.devices[${i}]`;
    if (!['c', 'b', 'u', 'p'].includes(d.type)) throw new ConfigError(`${field}.type`, `unknown device type ${JSON.stringify(d.type)}`);
    if (!d.path.startsWith('/dev/')) throw new ConfigError(`${field}.path`, 'must be a path under /dev');
    if (d.type !== 'p') { checkInt(d.major, `${field}.major`); checkInt(d.minor, `${field}.minor`); }
  });
  if (linux.mountLabel) throw new ConfigError('linux.mountLabel', 'SELinux is not supported by berth on this host');
  if (linux.intelRdt) throw new ConfigError('linux.intelRdt', 'Intel RDT is not supported by berth');
  for (const kind of HOOK_KINDS) {
    (spec.hooks?.[kind] ?? []).forEach((h, i) => {
      if (!path.isAbsolute(h.path)) throw new ConfigError(`hooks.${kind}[${i}].path`, 'must be an absolute path');
      if (h.timeout !== undefined) checkInt(h.timeout, `hooks.${kind}[${i}].timeout`, 1);
    });
  }
}
