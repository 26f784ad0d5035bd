// The types of config.json's fields, as the OCI runtime-spec schema (config-schema.json, config-linux.json,
// defs.json, defs-linux.json) and its Go types (specs-go, what runc decodes into) give them. A table, not a
// JSON-schema library: it is read once into a tree (typecheck.ts) and walked beside the config.
//
// Paths: `a.b` a property, `a[]` the items of an array, `a.*` the values of a map. A `!` after the kind marks
// a field that must be present and not null; every other field may be absent or null, which is Go's zero
// value (what runc sees) and is treated as absent. Fields the table does not name are ignored, as Go does.
// A table as a field's value is placed there: its '' entry is the field itself. Nested, not flattened into
// one table of paths: building that one and compiling its long paths cost ~2 ms of every cold `berth run`.

/** `id` is a uid or gid: uint32 in the schema, but above 2147483647 runc refuses it ((uid_t)-1 means "unchanged"). */
export type Kind =
  | 'object' | 'array' | 'string' | 'boolean'
  | 'integer' | 'int32' | 'int64' | 'uint16' | 'uint32' | 'uint64' | 'id';

export type FieldKind = `${Kind}` | `${Kind}!`;
export interface Table { [path: string]: FieldKind | Table }

/** `key` of a table placed at `prefix`: its '' entry is the prefix itself. */
export function joinPath(prefix: string, key: string): string {
  if (key === '') return prefix;
  if (prefix === '') return key;
  return key.startsWith('[') ? `${prefix}${key}` : `${prefix}.${key}`;
}

/** `table` as one kind per path, the nested tables placed at their fields (for tests that walk every field). */
export function flatten(table: Table, prefix = ''): Record<string, FieldKind> {
  const out: Record<string, FieldKind> = {};
  for (const [k, v] of Object.entries(table)) {
    if (typeof v === 'string') out[joinPath(prefix, k)] = v;
    else Object.assign(out, flatten(v, joinPath(prefix, k)));
  }
  return out;
}

const ID_MAPPING: Table = { '': 'array', '[]': 'object!', '[].containerID': 'uint32!', '[].hostID': 'uint32!', '[].size': 'uint32!' };
const STRINGS: Table = { '': 'array', '[]': 'string!' };
const HOOKS: Table = { '': 'array', '[]': 'object!', '[].path': 'string!', '[].args': 'array', '[].args[]': 'string!', '[].env': 'array', '[].env[]': 'string!', '[].timeout': 'integer' };
const THROTTLE: Table = { '': 'array', '[]': 'object!', '[].major': 'int64!', '[].minor': 'int64!', '[].rate': 'uint64' };
const CAPABILITY_SETS = ['bounding', 'effective', 'inheritable', 'permitted', 'ambient'];
export const HOOK_KINDS = ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'] as const;

/** process: also the whole of `berth exec --process` */
export const PROCESS_SCHEMA: Table = {
  '': 'object',
  terminal: 'boolean',
  consoleSize: 'object', 'consoleSize.height': 'uint64', 'consoleSize.width': 'uint64',
  user: 'object', 'user.uid': 'id', 'user.gid': 'id', 'user.umask': 'uint32', 'user.additionalGids': 'array',
  'user.additionalGids[]': 'id!', 'user.username': 'string',
  args: STRINGS,
  commandLine: 'string',
  env: STRINGS,
  cwd: 'string!',
  capabilities: 'object',
  ...Object.fromEntries(CAPABILITY_SETS.map((s) => [`capabilities.${s}`, STRINGS])),
  // soft and hard: any integer; planning maps -1 (some tools' "unlimited") and 2^64 to RLIM_INFINITY
  rlimits: 'array', 'rlimits[]': 'object!', 'rlimits[].type': 'string!', 'rlimits[].soft': 'integer!', 'rlimits[].hard': 'integer!',
  noNewPrivileges: 'boolean',
  apparmorProfile: 'string',
  oomScoreAdj: 'integer',
  selinuxLabel: 'string',
  ioPriority: 'object', 'ioPriority.class': 'string!', 'ioPriority.priority': 'int32',
  scheduler: 'object', 'scheduler.policy': 'string!', 'scheduler.nice': 'int32', 'scheduler.priority': 'int32',
  'scheduler.flags': STRINGS,
  'scheduler.runtime': 'uint64', 'scheduler.deadline': 'uint64', 'scheduler.period': 'uint64',
  execCPUAffinity: 'object', 'execCPUAffinity.initial': 'string', 'execCPUAffinity.final': 'string',
};

const RESOURCES: Table = {
  '': 'object',
  devices: 'array', 'devices[]': 'object!', 'devices[].allow': 'boolean!', 'devices[].type': 'string',
  'devices[].major': 'int64', 'devices[].minor': 'int64', 'devices[].access': 'string',
  memory: 'object', 'memory.limit': 'int64', 'memory.reservation': 'int64', 'memory.swap': 'int64', 'memory.kernel': 'int64',
  'memory.kernelTCP': 'int64', 'memory.swappiness': 'uint64', 'memory.disableOOMKiller': 'boolean',
  'memory.useHierarchy': 'boolean', 'memory.checkBeforeUpdate': 'boolean',
  cpu: 'object', 'cpu.shares': 'uint64', 'cpu.quota': 'int64', 'cpu.burst': 'uint64', 'cpu.period': 'uint64',
  'cpu.realtimeRuntime': 'int64', 'cpu.realtimePeriod': 'uint64', 'cpu.cpus': 'string', 'cpu.mems': 'string', 'cpu.idle': 'int64',
  pids: 'object', 'pids.limit': 'int64',
  blockIO: 'object', 'blockIO.weight': 'uint16', 'blockIO.leafWeight': 'uint16',
  'blockIO.weightDevice': 'array', 'blockIO.weightDevice[]': 'object!', 'blockIO.weightDevice[].major': 'int64!',
  'blockIO.weightDevice[].minor': 'int64!', 'blockIO.weightDevice[].weight': 'uint16', 'blockIO.weightDevice[].leafWeight': 'uint16',
  'blockIO.throttleReadBpsDevice': THROTTLE,
  'blockIO.throttleWriteBpsDevice': THROTTLE,
  'blockIO.throttleReadIOPSDevice': THROTTLE,
  'blockIO.throttleWriteIOPSDevice': THROTTLE,
  hugepageLimits: 'array', 'hugepageLimits[]': 'object!', 'hugepageLimits[].pageSize': 'string!', 'hugepageLimits[].limit': 'uint64',
  network: 'object', 'network.classID': 'uint32', 'network.priorities': 'array', 'network.priorities[]': 'object!',
  'network.priorities[].name': 'string!', 'network.priorities[].priority': 'uint32',
  rdma: 'object', 'rdma.*': 'object!', 'rdma.*.hcaHandles': 'uint32', 'rdma.*.hcaObjects': 'uint32',
  unified: 'object', 'unified.*': 'string!',
};

const SECCOMP: Table = {
  '': 'object',
  defaultAction: 'string!', defaultErrnoRet: 'uint32',
  architectures: STRINGS,
  flags: STRINGS,
  listenerPath: 'string', listenerMetadata: 'string',
  syscalls: 'array', 'syscalls[]': 'object!', 'syscalls[].names': 'array!', 'syscalls[].names[]': 'string!',
  'syscalls[].action': 'string!', 'syscalls[].errnoRet': 'uint32',
  'syscalls[].args': 'array', 'syscalls[].args[]': 'object!', 'syscalls[].args[].index': 'uint32!',
  'syscalls[].args[].value': 'uint64!', 'syscalls[].args[].valueTwo': 'uint64', 'syscalls[].args[].op': 'string!',
};

const LINUX: Table = {
  '': 'object',
  devices: 'array', 'devices[]': 'object!', 'devices[].type': 'string!', 'devices[].path': 'string!',
  'devices[].fileMode': 'uint32', 'devices[].major': 'int64', 'devices[].minor': 'int64', 'devices[].uid': 'uint32', 'devices[].gid': 'uint32',
  netDevices: 'object', 'netDevices.*': 'object!', 'netDevices.*.name': 'string',
  uidMappings: ID_MAPPING,
  gidMappings: ID_MAPPING,
  namespaces: 'array', 'namespaces[]': 'object!', 'namespaces[].type': 'string!', 'namespaces[].path': 'string',
  timeOffsets: 'object', 'timeOffsets.*': 'object!', 'timeOffsets.*.secs': 'int64', 'timeOffsets.*.nanosecs': 'uint32',
  resources: RESOURCES,
  cgroupsPath: 'string',
  rootfsPropagation: 'string',
  seccomp: SECCOMP,
  sysctl: 'object', 'sysctl.*': 'string!',
  maskedPaths: STRINGS,
  readonlyPaths: STRINGS,
  mountLabel: 'string',
  personality: 'object', 'personality.domain': 'string!', 'personality.flags': STRINGS,
  intelRdt: 'object', 'intelRdt.closID': 'string', 'intelRdt.schemata': STRINGS, 'intelRdt.l3CacheSchema': 'string',
  'intelRdt.memBwSchema': 'string', 'intelRdt.enableMonitoring': 'boolean',
  memoryPolicy: 'object', 'memoryPolicy.mode': 'string', 'memoryPolicy.nodes': 'string', 'memoryPolicy.flags': STRINGS,
};

export const SPEC_SCHEMA: Table = {
  '': 'object!',
  ociVersion: 'string!',
  hostname: 'string',
  domainname: 'string',
  annotations: 'object', 'annotations.*': 'string!',
  root: 'object', 'root.path': 'string!', 'root.readonly': 'boolean',
  mounts: 'array', 'mounts[]': 'object!', 'mounts[].destination': 'string!', 'mounts[].source': 'string', 'mounts[].type': 'string',
  'mounts[].options': STRINGS,
  'mounts[].uidMappings': ID_MAPPING,
  'mounts[].gidMappings': ID_MAPPING,
  hooks: 'object',
  ...Object.fromEntries(HOOK_KINDS.map((k) => [`hooks.${k}`, HOOKS])),
  process: PROCESS_SCHEMA,
  linux: LINUX,
};

/** Strings that never reach the kernel and may hold any character: annotations go to hooks and state as JSON. */
export const NUL_ALLOWED = new Set(['annotations']);
