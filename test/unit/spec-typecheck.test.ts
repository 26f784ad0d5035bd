// Malformed configs (wrong types, NUL bytes, nulls, numbers out of range) through validation and planning:
// each must fail with one line naming the field, never a JavaScript internal; null optional fields are
// Go's zero value (absent), as runc reads them.
import t from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildCreatePlan } from '../../lib/runtime/plan';
import { defaultSpec } from '../../lib/runtime/spec/default';
import { SPEC_SCHEMA, flatten } from '../../lib/runtime/spec/schema';
import type { Spec } from '../../lib/runtime/spec/types';
import { validateSpec } from '../../lib/runtime/spec/validate';
import { BerthError } from '../../lib/util/errors';

const JS_INTERNALS = /is not a function|Cannot read propert|Cannot convert|BigInt|undefined|is not iterable|NaN|\[object /;

const bundle = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-spec-typecheck-'));
t.teardown(() => fs.rmSync(bundle, { recursive: true, force: true }));

/** runc's default config with one of every part filled in, valid: each case breaks exactly one field. */
function fullSpec(): Spec {
  const s = defaultSpec();
  s.hooks = { prestart: [{ path: '/bin/true', args: ['true'], env: ['A=b'], timeout: 5 }], poststop: [{ path: '/bin/true' }] };
  s.annotations = { 'org.example': 'x' };
  s.domainname = 'example';
  const p = s.process!;
  p.user = { uid: 1000, gid: 1000, umask: 0o22, additionalGids: [5, 6], username: 'u' };
  p.consoleSize = { height: 24, width: 80 };
  p.capabilities!.inheritable = ['CAP_KILL'];
  p.oomScoreAdj = 100;
  const l = s.linux!;
  l.namespaces!.push({ type: 'user' }, { type: 'cgroup' });
  l.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
  l.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
  l.devices = [{ type: 'c', path: '/dev/fuse', major: 10, minor: 229, fileMode: 0o666, uid: 0, gid: 0 }];
  l.sysctl = { 'kernel.shmmax': '100000', 'net.ipv4.ip_forward': '1' };
  l.cgroupsPath = 'berth/test';
  l.rootfsPropagation = 'rprivate';
  l.resources = {
    devices: [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 1, minor: 3, access: 'rw' }],
    memory: { limit: 1 << 30, swappiness: 0 },
    cpu: { shares: 1024, quota: 100000, period: 100000, cpus: '0' },
    pids: { limit: 100 },
    blockIO: { weight: 100, throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1000 }] },
    hugepageLimits: [{ pageSize: '2MB', limit: 0 }],
  };
  l.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64'], syscalls: [{ names: ['chmod'], action: 'SCMP_ACT_ERRNO', errnoRet: 1, args: [{ index: 0, value: 0, op: 'SCMP_CMP_EQ' }] }] };
  l.personality = { domain: 'LINUX' };
  s.mounts!.push({ destination: '/data', type: 'bind', source: '/tmp', options: ['rbind', 'ro'] });
  return s;
}

/** Validates and plans; the error as one line, or null when both pass. */
function refusal(s: unknown): string | null {
  try {
    validateSpec(s as Spec);
    buildCreatePlan(s as Spec, { bundle, execFifo: null, pauseAfterMounts: false });
    return null;
  } catch (e) {
    if (!(e instanceof BerthError)) return `NOT A BERTH ERROR: ${(e as Error)?.stack ?? String(e)}`;
    return e.message;
  }
}

/** Sets `value` at a field path such as `linux.sysctl.kernel.shmmax` or `mounts[1].options[0]`. */
function setField(s: Spec, field: string, value: unknown): void {
  const parts = field.match(/[^.[\]]+|\[\d+\]/g)!;
  // sysctl and annotation keys hold dots: the rest of the path is one key
  const mapAt = parts.findIndex((p, i) => i > 0 && ['sysctl', 'annotations', 'unified'].includes(parts[i - 1]));
  const keys = mapAt > 0 ? [...parts.slice(0, mapAt), parts.slice(mapAt).join('.')] : parts;
  let o = s as unknown as Record<string, unknown>;
  keys.forEach((p, i) => {
    const k = p.startsWith('[') ? Number(p.slice(1, -1)) : p;
    if (i === keys.length - 1) (o as Record<string | number, unknown>)[k] = value;
    else o = (o as Record<string | number, unknown>)[k] as Record<string, unknown>;
  });
}

t.test('the full config used below is valid', async (t) => {
  t.equal(refusal(fullSpec()), null);
});

// Every top-level, process.* and linux.* field, and the nested ones the issue met, with a wrong type.
const WRONG: [string, string, unknown][] = [
  // [field, expected, wrong value]
  ['ociVersion', 'string', 1], ['hostname', 'string', 7], ['domainname', 'string', false], ['mounts', 'array', {}],
  ['hooks', 'object', []], ['annotations', 'object', 'a=b'], ['root', 'object', '/rootfs'], ['process', 'object', ['sh']],
  ['linux', 'object', 'linux'],
  ['root.path', 'string', 5], ['root.readonly', 'boolean', 'true'],
  ['process.terminal', 'boolean', 1], ['process.consoleSize', 'object', 80], ['process.consoleSize.height', 'uint64', '24'],
  ['process.user', 'object', 0], ['process.user.uid', 'uint32', '0'], ['process.user.gid', 'uint32', true],
  ['process.user.umask', 'uint32', '022'], ['process.user.additionalGids', 'array', 5], ['process.user.additionalGids[0]', 'uint32', 'wheel'],
  ['process.user.username', 'string', 0],
  ['process.args', 'array', 'sh'], ['process.args[0]', 'string', 1], ['process.env', 'array', 'A=b'], ['process.env[1]', 'string', {}],
  ['process.cwd', 'string', 0], ['process.capabilities', 'object', 'CAP_KILL'], ['process.capabilities.bounding', 'array', 'CAP_KILL'],
  ['process.capabilities.ambient[0]', 'string', 5], ['process.rlimits', 'array', {}], ['process.rlimits[0]', 'object', 'RLIMIT_NOFILE'],
  ['process.rlimits[0].soft', 'integer', '1024'], ['process.rlimits[0].hard', 'integer', null], ['process.rlimits[0].type', 'string', 7],
  ['process.noNewPrivileges', 'boolean', 'yes'], ['process.oomScoreAdj', 'integer', '5'], ['process.apparmorProfile', 'string', 1],
  ['process.selinuxLabel', 'string', 1], ['process.ioPriority', 'object', 3], ['process.scheduler', 'object', 'SCHED_OTHER'],
  ['process.execCPUAffinity', 'object', '0-3'],
  ['mounts[0]', 'object', '/proc'], ['mounts[0].destination', 'string', 1], ['mounts[0].type', 'string', []], ['mounts[1].source', 'string', 1],
  ['mounts[1].options', 'array', 'nosuid'], ['mounts[1].options[0]', 'string', 1], ['mounts[0].uidMappings', 'array', {}],
  ['hooks.prestart', 'array', '/bin/true'], ['hooks.prestart[0]', 'object', '/bin/true'], ['hooks.prestart[0].path', 'string', 1],
  ['hooks.prestart[0].args', 'array', 'true'], ['hooks.prestart[0].timeout', 'integer', '5'], ['hooks.poststop', 'array', {}],
  ['annotations.org.example', 'string', 5],
  ['linux.devices', 'array', {}], ['linux.devices[0]', 'object', '/dev/fuse'], ['linux.devices[0].major', 'int64', '10'],
  ['linux.devices[0].path', 'string', null], ['linux.devices[0].fileMode', 'uint32', '0666'],
  ['linux.netDevices', 'object', []], ['linux.uidMappings', 'array', '0 1000 1'], ['linux.uidMappings[0]', 'object', 0],
  ['linux.uidMappings[0].hostID', 'uint32', '100000'], ['linux.gidMappings[0].size', 'uint32', null], ['linux.gidMappings', 'array', 1],
  ['linux.namespaces', 'array', 'pid'], ['linux.namespaces[0]', 'object', 'pid'], ['linux.namespaces[0].type', 'string', 1],
  ['linux.namespaces[1].path', 'string', 1], ['linux.timeOffsets', 'object', 5], ['linux.resources', 'object', []],
  ['linux.resources.devices', 'array', {}], ['linux.resources.devices[0].allow', 'boolean', 'false'], ['linux.resources.memory', 'object', 1],
  ['linux.resources.memory.limit', 'int64', '1G'], ['linux.resources.cpu.shares', 'uint64', -1], ['linux.resources.cpu.cpus', 'string', 0],
  ['linux.resources.pids.limit', 'int64', '100'], ['linux.resources.blockIO.weight', 'uint16', 70000],
  ['linux.resources.hugepageLimits[0].limit', 'uint64', '0'], ['linux.resources.unified', 'object', 'memory.max=1'],
  ['linux.cgroupsPath', 'string', 1], ['linux.rootfsPropagation', 'string', 1], ['linux.seccomp', 'object', 'default'],
  ['linux.seccomp.defaultAction', 'string', 0], ['linux.seccomp.syscalls', 'array', {}], ['linux.seccomp.syscalls[0].names', 'array', 'chmod'],
  ['linux.seccomp.syscalls[0].args[0].value', 'uint64', '0'], ['linux.sysctl', 'object', ['kernel.shmmax=1']],
  ['linux.sysctl.kernel.shmmax', 'string', 100000], ['linux.maskedPaths', 'array', '/proc/keys'], ['linux.maskedPaths[0]', 'string', 1],
  ['linux.readonlyPaths', 'array', '/proc/sys'], ['linux.readonlyPaths[4]', 'string', false], ['linux.mountLabel', 'string', 1],
  ['linux.personality', 'object', 'LINUX'], ['linux.personality.domain', 'string', 1], ['linux.intelRdt', 'object', 'x'],
  ['linux.memoryPolicy', 'object', 'bind'],
];

const typeOf = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

t.test(`${WRONG.length} fields with a wrong type: "<field>: expected <type>, got <type>"`, async (t) => {
  t.ok(WRONG.length >= 33);
  for (const [field, expected, value] of WRONG) {
    const s = fullSpec();
    setField(s, field, value);
    const got = typeof value === 'number' && /int/.test(expected) ? String(value) : typeOf(value);
    t.equal(refusal(s), `${field}: expected ${expected}, got ${got}`, field);
  }
});

// Each of these would be cut at the NUL by C: /tmp/a\0b mounted at /tmp/a, `sh\0 -c evil` run as sh.
const NUL_FIELDS = [
  'process.args[0]', 'process.env[0]', 'process.cwd', 'process.user.username', 'process.capabilities.bounding[0]', 'process.rlimits[0].type',
  'hostname', 'domainname', 'root.path', 'mounts[0].destination', 'mounts[1].source', 'mounts[1].type', 'mounts[1].options[0]',
  'hooks.prestart[0].path', 'hooks.prestart[0].args[0]', 'hooks.prestart[0].env[0]', 'linux.namespaces[0].path', 'linux.devices[0].path',
  'linux.sysctl.kernel.shmmax', 'linux.maskedPaths[0]', 'linux.readonlyPaths[0]', 'linux.cgroupsPath', 'linux.rootfsPropagation',
  'linux.resources.devices[0].access', 'linux.resources.cpu.cpus', 'linux.seccomp.syscalls[0].names[0]', 'linux.personality.domain',
];

t.test(`NUL bytes in ${NUL_FIELDS.length} strings that reach the kernel are refused naming the field`, async (t) => {
  for (const field of NUL_FIELDS) {
    const s = fullSpec();
    setField(s, field, '/tmp/a\0b');
    t.equal(refusal(s), `${field}: contains a NUL byte`, field);
  }
  const s = fullSpec();
  s.linux!.sysctl = { 'kernel.shm\0max': '1' };
  t.equal(refusal(s), 'linux.sysctl["kernel.shm\\u0000max"]: the key contains a NUL byte', 'a sysctl key, quoted on one line');
  const a = fullSpec();
  a.annotations = { 'k\0': 'v\0' };
  t.equal(refusal(a), null, 'annotations only travel as JSON (state, hooks): any string');
});

t.test('numbers out of their Go type\'s range, or not integers', async (t) => {
  const cases: [string, unknown, string][] = [
    ['process.user.uid', 4294967295, 'uids and gids must be in range 0-2147483647, got 4294967295'],
    ['process.user.uid', 2147483648, 'uids and gids must be in range 0-2147483647, got 2147483648'],
    ['process.user.gid', 4294967295, 'uids and gids must be in range 0-2147483647, got 4294967295'],
    ['process.user.additionalGids[1]', 4294967295, 'uids and gids must be in range 0-2147483647, got 4294967295'],
    ['process.user.uid', -1, 'uids and gids must be in range 0-2147483647, got -1'],
    ['process.user.uid', 1.5, 'expected uint32, got 1.5'],
    ['linux.uidMappings[0].hostID', 4294967296, 'expected uint32, got 4294967296'],
    ['linux.uidMappings[0].containerID', -1, 'expected uint32, got -1'],
    ['process.rlimits[0].soft', 1.5, 'expected integer, got 1.5'],
    ['linux.resources.memory.limit', 1e300, 'expected int64, got 1e+300'],
    ['linux.resources.blockIO.weight', -1, 'expected uint16, got -1'],
    ['process.consoleSize.width', -80, 'expected uint64, got -80'],
  ];
  for (const [field, value, message] of cases) {
    const s = fullSpec();
    setField(s, field, value);
    t.equal(refusal(s), `${field}: ${message}`, `${field} = ${value}`);
  }
  const big = fullSpec();
  big.process!.rlimits![0].hard = 18446744073709551615; // JSON gives 2^64 for u64 max: unlimited
  big.process!.rlimits![0].soft = 18446744073709551615;
  t.equal(refusal(big), null, 'rlimit 2^64-1 (as JSON.parse reads it) is RLIM_INFINITY');
});

t.test('null in an optional field is Go\'s zero value: treated as absent, as runc does', async (t) => {
  const s = fullSpec();
  const p = s.process as unknown as Record<string, unknown>;
  p.capabilities = null; p.rlimits = null; p.env = null; p.oomScoreAdj = null; p.consoleSize = null;
  const l = s.linux as unknown as Record<string, unknown>;
  l.seccomp = null; l.sysctl = null; l.resources = null; l.maskedPaths = null; l.devices = null;
  (s as unknown as Record<string, unknown>).hooks = null;
  (s.process!.user as unknown as Record<string, unknown>).umask = null;
  t.equal(refusal(s), null);
  t.notOk('capabilities' in s.process!, 'null removed: planning sees it absent');
  t.notOk('seccomp' in s.linux!);
  const u = fullSpec();
  (u.process as unknown as Record<string, unknown>).user = null;
  t.equal(refusal(u), null, 'no user (null) is uid 0, gid 0, as runc');
  t.same(u.process!.user, { uid: 0, gid: 0 });
  const v = fullSpec();
  delete (v.process as unknown as Record<string, unknown>).user;
  t.equal(refusal(v), null, 'no user (absent) likewise');
  t.same(v.process!.user, { uid: 0, gid: 0 });
});

t.test('null where a value is required, and required fields missing', async (t) => {
  const cases: [string, unknown, string][] = [
    ['ociVersion', null, 'ociVersion: expected string, got null'],
    ['process.cwd', null, 'process.cwd: expected string, got null'],
    ['root.path', null, 'root.path: expected string, got null'],
    ['mounts[0]', null, 'mounts[0]: expected object, got null'],
    ['linux.namespaces[0]', null, 'linux.namespaces[0]: expected object, got null'],
    ['process.args[1]', null, 'process.args[1]: expected string, got null'],
    ['mounts[0].destination', undefined, 'mounts[0].destination: missing (expected string)'],
    ['linux.namespaces[0].type', undefined, 'linux.namespaces[0].type: missing (expected string)'],
    ['linux.uidMappings[0].size', undefined, 'linux.uidMappings[0].size: missing (expected uint32)'],
    ['process.rlimits[0].soft', undefined, 'process.rlimits[0].soft: missing (expected integer)'],
    ['linux.seccomp.defaultAction', undefined, 'linux.seccomp.defaultAction: missing (expected string)'],
    ['linux.sysctl.kernel.shmmax', null, 'linux.sysctl.kernel.shmmax: expected string, got null'],
  ];
  for (const [field, value, message] of cases) {
    const s = fullSpec();
    if (field === 'process.args[1]') s.process!.args = ['sh', 'x'];
    setField(s, field, value);
    t.equal(refusal(s), message, field);
  }
  t.equal(refusal(null), 'config.json: expected object, got null');
  t.equal(refusal('{}'), 'config.json: expected object, got string');
});

// The schema nests its shared tables (schema.ts): a table as a field's value is placed at that field, as the
// flat path table the OCI schema reads as.
t.test('a nested schema table is placed at its field', async (t) => {
  const STRINGS = { '': 'array', '[]': 'string!' } as const;
  t.same(flatten({ '': 'object', args: STRINGS, 'mounts[]': 'object!', 'mounts[].options': STRINGS, m: 'object', 'm.*': STRINGS }), {
    '': 'object', args: 'array', 'args[]': 'string!', 'mounts[]': 'object!', 'mounts[].options': 'array',
    'mounts[].options[]': 'string!', m: 'object', 'm.*': 'array', 'm.*[]': 'string!',
  });
  const flat = flatten(SPEC_SCHEMA);
  t.equal(flat['linux.resources.blockIO.throttleReadBpsDevice[].major'], 'int64!', 'nested two deep');
  t.equal(flat['hooks.poststop[].args[]'], 'string!', 'a table placed per hook kind');
  t.equal(flat['process.capabilities.ambient[]'], 'string!', 'and per capability set');
});

// Every field of the schema table, given every JSON type it does not have: refused with one line that names
// it, or (null in an optional field) accepted; never a JavaScript internal, in validation or in planning.
t.test('every schema field with every other JSON type', async (t) => {
  const kinds = new Map(Object.entries(flatten(SPEC_SCHEMA)).map(([k, v]) => [k, { kind: v.replace('!', ''), required: v.endsWith('!') }]));
  const samples: unknown[] = ['str', 5, 1.5, true, {}, [], null];
  const matches = (kind: string, v: unknown): boolean =>
    kind === 'object' ? typeOf(v) === 'object' : kind === 'array' ? Array.isArray(v) : kind === 'string' || kind === 'boolean' ? typeof v === kind : Number.isInteger(v);
  /** a valid value of the field, with its required members */
  const minimal = (pattern: string): unknown => {
    const { kind } = kinds.get(pattern)!;
    if (kind === 'object') {
      const o: Record<string, unknown> = {};
      for (const [k, v] of kinds) {
        const rest = k.startsWith(`${pattern}.`) ? k.slice(pattern.length + 1) : pattern === '' && k ? k : null;
        if (rest && /^[^.[\]*]+$/.test(rest) && v.required) o[rest] = minimal(k);
      }
      return o;
    }
    return kind === 'array' ? [] : kind === 'string' ? 'x' : kind === 'boolean' ? true : 1;
  };
  let checked = 0;
  for (const [pattern, { kind, required }] of kinds) {
    if (pattern === '') continue;
    const tokens = pattern.replace(/\[\]/g, '.[]').split('.');
    for (const sample of samples) {
      if (matches(kind, sample)) continue;
      const s = fullSpec() as unknown as Record<string, unknown>;
      let o: Record<string | number, unknown> = s;
      let so = '';
      let field = '';
      tokens.forEach((tok, i) => {
        const key: string | number = tok === '[]' ? 0 : tok === '*' ? 'k' : tok;
        so = so === '' ? tok : tok === '[]' ? `${so}[]` : `${so}.${tok}`;
        field += typeof key === 'number' ? '[0]' : field ? `.${key}` : key;
        if (i === tokens.length - 1) { o[key] = sample; return; }
        const cur = o[key];
        const want = kinds.get(so)!.kind;
        if (want === 'array' ? !Array.isArray(cur) || !cur.length : typeOf(cur) !== 'object')
          o[key] = want === 'array' ? [minimal(`${so}[]`)] : minimal(so);
        else if (want === 'array') (cur as unknown[])[0] ??= minimal(`${so}[]`);
        o = (want === 'array' ? (o[key] as unknown[]) : o[key]) as Record<string | number, unknown>;
      });
      const r = refusal(s);
      checked++;
      if (sample === null && !required) {
        // Go's zero value: the verdict is the one for the same config without the field (which may be a
        // refusal of another field that needed it, as linux = null leaves a hostname without a uts namespace)
        const absent = refusal(JSON.parse(JSON.stringify(s, (_k, v: unknown) => (v === null ? undefined : v))));
        if (r !== null) t.ok(r === absent && !JS_INTERNALS.test(r), `${field} = null: ${r}`);
        continue;
      }
      if (r === null) { t.fail(`${field} = ${JSON.stringify(sample)} accepted`); continue; }
      if (!r.startsWith(`${field}: `) || r.includes('\n') || JS_INTERNALS.test(r)) t.fail(`${field} = ${JSON.stringify(sample)}: ${r}`);
    }
  }
  t.ok(checked > 1000, `${checked} malformed configs`);
});
