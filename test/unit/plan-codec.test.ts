// The launch plan's bytes round-trip through the real C decoder: plan-codec.ts encodes, a small program
// built from native/src/plan_decode.c decodes and prints every field of the struct plan the bootstrap
// reads (test/native/plan-dump.c); the expected lines are printed here from the plan that was encoded.
// Randomized plans (seeded, replayable) and the plans of real configs, create's and exec's.
import t, { type Test } from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import type { HookStep, LaunchPlan } from '../../lib/runtime/launch-plan';
import { encodePlan, PLAN_VERSION } from '../../lib/runtime/plan-codec';
import { buildCreatePlan, buildExecPlan } from '../../lib/runtime/plan';
import { defaultSpec } from '../../lib/runtime/spec/default';
import { compileSeccomp } from '../../lib/runtime/seccomp';
import type { Spec } from '../../lib/runtime/spec/types';
import { baseSpec } from '../helpers/bundle';
import { buildC, REPO } from '../helpers/cc';
import { rng } from '../helpers/random';

const dumper = buildC('plan-dump', fs.readFileSync(path.join(REPO, 'test', 'native', 'plan-dump.c'), 'utf8'), ['plan_decode.c']);
t.teardown(() => dumper.cleanup());

/** what the C side prints, or the decoder's one-line refusal */
function decode(bytes: Buffer): { lines?: string[]; error?: string } {
  try {
    return { lines: execFileSync(dumper.exe, { input: bytes, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] }).trimEnd().split('\n') };
  } catch (e) {
    const err = e as { status: number; stderr: string };
    if (err.status !== 2) throw e;
    return { error: err.stderr.trim() };
  }
}

/** the same lines, from the plan as TypeScript holds it: what the bootstrap must end up with */
function dump(plan: LaunchPlan): string[] {
  const out: string[] = [];
  const s = (k: string, v: string | null) => out.push(`${k}=${v === null ? 'null' : `s:${Buffer.from(v).toString('hex')}`}`);
  const n = (k: string, v: number | boolean | bigint) => out.push(`${k}=${typeof v === 'boolean' ? Number(v) : v}`);
  const strs = (k: string, v: string[]) => {
    n(`${k}.length`, v.length);
    v.forEach((x, i) => s(`${k}[${i}]`, x));
  };
  const hooks = (k: string, v: HookStep[]) => {
    n(`${k}.length`, v.length);
    v.forEach((h, i) => {
      s(`${k}[${i}].path`, h.path);
      strs(`${k}[${i}].args`, h.args);
      strs(`${k}[${i}].env`, h.env);
      n(`${k}[${i}].timeout`, h.timeout);
      n(`${k}[${i}].index`, h.index);
    });
  };
  n('cloneFlags', plan.cloneFlags);
  n('newUserns', plan.newUserns);
  n('join.length', plan.join.length);
  plan.join.forEach((j, i) => {
    n(`join[${i}].type`, j.type);
    s(`join[${i}].path`, j.path);
  });
  s('timeOffsets', plan.timeOffsets);
  n('syncFd', plan.syncFd ?? -1);
  s('rootfs', plan.rootfs);
  n('rootPropagation', plan.rootPropagation);
  n('noPivot', plan.noPivot);
  n('readonlyRoot', plan.readonlyRoot);
  n('pauseAfterMounts', plan.pauseAfterMounts);
  n('mounts.length', plan.mounts.length);
  plan.mounts.forEach((m, i) => {
    const k = `mounts[${i}]`;
    s(`${k}.source`, m.source);
    s(`${k}.target`, m.target);
    s(`${k}.fstype`, m.fstype);
    n(`${k}.flags`, m.flags);
    const props = m.propagation.slice(0, 4); // the bootstrap applies four at most
    n(`${k}.propagation.length`, props.length);
    props.forEach((p, j) => n(`${k}.propagation[${j}]`, p));
    s(`${k}.data`, m.data);
    n(`${k}.bind`, m.bind);
    n(`${k}.file`, m.file);
    n(`${k}.attrSet`, m.attrSet);
    n(`${k}.attrClr`, m.attrClr);
    n(`${k}.index`, m.index);
  });
  n('devices.length', plan.devices.length);
  plan.devices.forEach((d, i) => {
    const k = `devices[${i}]`;
    s(`${k}.path`, d.path);
    for (const f of ['mode', 'major', 'minor', 'uid', 'gid'] as const) n(`${k}.${f}`, d[f]);
    n(`${k}.bind`, d.bind);
    n(`${k}.index`, d.index);
  });
  n('defaultLinks', plan.defaultLinks);
  strs('maskedPaths', plan.maskedPaths);
  strs('readonlyPaths', plan.readonlyPaths);
  s('hostname', plan.hostname);
  s('domainname', plan.domainname);
  strs('sysctlPaths', plan.sysctlPaths);
  strs('sysctlValues', plan.sysctlValues);
  strs('args', plan.args);
  strs('env', plan.env);
  s('cwd', plan.cwd);
  n('uid', plan.uid);
  n('gid', plan.gid);
  n('additionalGids.length', plan.additionalGids.length);
  plan.additionalGids.forEach((g, i) => n(`additionalGids[${i}]`, g));
  n('setGroups', plan.setGroups);
  n('umask', plan.umask);
  n('rlimits.length', plan.rlimits.length);
  plan.rlimits.forEach((r, i) => {
    n(`rlimits[${i}].resource`, r.resource);
    n(`rlimits[${i}].soft`, r.soft);
    n(`rlimits[${i}].hard`, r.hard);
  });
  n('capabilities', plan.capabilities !== null);
  if (plan.capabilities) for (const k of ['bounding', 'effective', 'inheritable', 'permitted', 'ambient'] as const) n(`capabilities.${k}`, plan.capabilities[k]);
  n('noNewPrivileges', plan.noNewPrivileges);
  n('oomScoreAdj', plan.oomScoreAdj !== null);
  if (plan.oomScoreAdj !== null) n('oomScoreAdj.value', plan.oomScoreAdj);
  n('personality', plan.personality);
  out.push(`seccomp=${plan.seccomp ? `b:${plan.seccomp.toString('hex')}` : 'null'}`);
  n('seccompFlags', plan.seccompFlags);
  n('terminal', plan.terminal);
  n('consoleSocketFd', plan.consoleSocketFd);
  n('consoleRows', plan.consoleRows);
  n('consoleCols', plan.consoleCols);
  s('execFifo', plan.execFifo);
  n('preserveFds', plan.preserveFds);
  plan.stdio.forEach((fd, i) => n(`stdio[${i}]`, fd));
  hooks('createContainerHooks', plan.createContainerHooks);
  hooks('startContainerHooks', plan.startContainerHooks);
  n('setsid', plan.setsid);
  strs('cgroupTasks', plan.cgroupTasks);
  s('cgroupV2', plan.cgroupV2);
  n('waitPlaced', plan.waitPlaced);
  n('execShimFd', -1); // set by the addon after decoding, never carried in the bytes
  return out;
}

/** a plan with every field drawn at random over the range its C field holds */
function randomPlan(seed: number): LaunchPlan {
  const r = rng(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
  const bool = () => r() < 0.5;
  const u64 = () => (BigInt(int(0, 0xffffffff)) << 32n) | BigInt(int(0, 0xffffffff));
  const big = () => (r() < 0.2 ? 0xffffffffffffffffn : r() < 0.2 ? 0n : u64());
  const alphabet = ['a', 'Z', '/', '.', ' ', '=', '\n', '\t', 'é', '€', '字', '😀', '"', '\\', '%'];
  const str = () => Array.from({ length: int(0, r() < 0.1 ? 300 : 12) }, () => alphabet[int(0, alphabet.length - 1)]).join('');
  const maybe = () => (r() < 0.3 ? null : str());
  const list = <T>(max: number, f: () => T): T[] => Array.from({ length: int(0, max) }, f);
  const fd = () => int(-1, 0x7fffffff);
  const u32 = () => int(0, 0xffffffff);
  const i32 = () => int(-0x80000000, 0x7fffffff);
  const hook = (): HookStep => ({ path: str(), args: list(4, str), env: list(4, str), timeout: i32(), index: i32() });
  const nsysctl = int(0, 4);
  return {
    cloneFlags: i32(),
    newUserns: bool(),
    join: list(6, () => ({ type: i32(), path: str() })),
    timeOffsets: maybe(),
    syncFd: r() < 0.2 ? undefined : fd(),
    rootfs: maybe(),
    rootPropagation: u32(),
    noPivot: bool(),
    readonlyRoot: bool(),
    pauseAfterMounts: bool(),
    mounts: list(8, () => ({
      source: maybe(), target: str(), fstype: maybe(), flags: u32(), propagation: list(6, u32), data: maybe(),
      bind: bool(), file: bool(), attrSet: big(), attrClr: big(), index: i32(),
    })),
    devices: list(8, () => ({ path: str(), mode: u32(), major: u32(), minor: u32(), uid: u32(), gid: u32(), bind: bool(), index: i32() })),
    defaultLinks: bool(),
    maskedPaths: list(6, str),
    readonlyPaths: list(6, str),
    hostname: maybe(),
    domainname: maybe(),
    sysctlPaths: Array.from({ length: nsysctl }, str),
    sysctlValues: Array.from({ length: nsysctl }, str),
    args: [str(), ...list(5, str)],
    env: list(8, str),
    cwd: str(),
    uid: u32(),
    gid: u32(),
    additionalGids: list(8, u32),
    setGroups: bool(),
    umask: i32(),
    rlimits: list(6, () => ({ resource: i32(), soft: big(), hard: big() })),
    capabilities: bool() ? null : { bounding: big(), effective: big(), inheritable: big(), permitted: big(), ambient: big() },
    noNewPrivileges: bool(),
    oomScoreAdj: bool() ? null : i32(),
    personality: int(-1, 0xffffffff),
    seccomp: bool() ? null : Buffer.from(Array.from({ length: 8 * int(0, 40) }, () => int(0, 255))),
    seccompFlags: u32(),
    terminal: bool(),
    consoleSocketFd: fd(),
    consoleRows: int(0, 0xffff),
    consoleCols: int(0, 0xffff),
    execFifo: maybe(),
    preserveFds: int(0, 0x7fffffff),
    stdio: [fd(), fd(), fd()],
    createContainerHooks: list(3, hook),
    startContainerHooks: list(3, hook),
    setsid: bool(),
    cgroupTasks: list(4, str),
    cgroupV2: maybe(),
    waitPlaced: bool(),
  };
}

function roundTrips(t: Test, plan: LaunchPlan, label: string): void {
  const got = decode(encodePlan(plan));
  t.equal(got.error, undefined, `${label}: decoded`);
  t.same(got.lines, dump(plan), `${label}: every field as encoded`);
}

t.test('randomized plans, every field', async (t) => {
  const base = Number(process.env.PLAN_SEED ?? 0x5eed);
  for (let i = 0; i < 150; i++) roundTrips(t, randomPlan(base + i), `seed ${base + i}`);
});

t.test('the plans of real configs: create and exec', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plan-codec-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.mkdirSync(path.join(dir, 'rootfs', 'etc'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'rootfs', 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
  const seccomp = compileSeccomp({
    defaultAction: 'SCMP_ACT_ERRNO',
    architectures: ['SCMP_ARCH_X86_64'],
    syscalls: [{ names: ['read', 'write', 'exit_group'], action: 'SCMP_ACT_ALLOW' }],
  }, 'linux.seccomp', { nativeArch: 'SCMP_ARCH_X86_64' });
  const full: Spec = {
    ...defaultSpec(),
    hostname: 'box',
    domainname: 'example.org',
    hooks: {
      createContainer: [{ path: '/bin/hook', args: ['hook', 'create'], env: ['A=1'], timeout: 5 }],
      startContainer: [{ path: '/bin/hook', args: ['hook', 'start'] }],
    },
  };
  full.process = { ...full.process!, oomScoreAdj: 100, user: { uid: 1000, gid: 1000, additionalGids: [10, 20], umask: 0o22 } };
  full.linux = {
    ...full.linux,
    sysctl: { 'net.ipv4.ip_forward': '1' },
    devices: [{ path: '/dev/fuse', type: 'c', major: 10, minor: 229, fileMode: 0o666, uid: 0, gid: 0 }],
    namespaces: [...(full.linux?.namespaces ?? []), { type: 'user' }, { type: 'cgroup' }],
    uidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }],
    gidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }],
    rootfsPropagation: 'rslave',
  };
  full.mounts = [...(full.mounts ?? []), { destination: '/data', type: 'bind', source: dir, options: ['rbind', 'ro', 'rprivate', 'nosuid'] }];
  const specs: [string, Spec][] = [['baseSpec', baseSpec(['/bin/true'])], ['runc spec default', defaultSpec()], ['every section', full]];
  for (const [name, spec] of specs) {
    const plan = buildCreatePlan(spec, {
      bundle: dir, execFifo: path.join(dir, 'exec.fifo'), pauseAfterMounts: true, consoleSocketFd: 9, preserveFds: 2,
      stdio: [0, 1, 2], seccomp, cgroupPaths: { memory: '/sys/fs/cgroup/memory/x' },
    });
    roundTrips(t, { ...plan, syncFd: 7 }, `create: ${name}`);
  }
  const exec = buildExecPlan({
    pid: process.pid, namespaces: ['mount', 'user', 'pid', 'network'], process: full.process!, consoleSocketFd: 5,
    preserveFds: 1, stdio: [3, 4, 5], seccomp, setsid: false,
  });
  t.ok(exec.join.length === 4, 'exec joins every namespace');
  roundTrips(t, exec, 'exec');
});

t.test('the decoder refuses what it cannot read, with one line', async (t) => {
  const good = Buffer.from(encodePlan(randomPlan(1)));
  const wrongVersion = Buffer.from(good);
  wrongVersion[4] = PLAN_VERSION + 1;
  t.equal(decode(wrongVersion).error, `launch plan: version ${PLAN_VERSION + 1}, this bootstrap reads version ${PLAN_VERSION}`);
  const wrongMagic = Buffer.from(good);
  wrongMagic.write('JSON', 0);
  t.match(decode(wrongMagic).error, /^launch plan: not a berth launch plan/);
  t.match(decode(good.subarray(0, 6)).error, /^launch plan: not a berth launch plan/, 'shorter than the header');
  const cut = Buffer.from(good.subarray(0, good.length - 3));
  cut.writeUInt32LE(cut.length, 8);
  t.match(decode(cut).error, /^plan\.\w+.*: truncated$/, 'a truncated plan names the field it stopped in');
  const longer = Buffer.concat([good, Buffer.alloc(2)]);
  longer.writeUInt32LE(longer.length, 8);
  t.equal(decode(longer).error, 'launch plan: 2 bytes left after the last field');
  const lying = Buffer.from(good);
  lying.writeUInt32LE(good.length + 1, 8);
  t.match(decode(lying).error, /^launch plan: \d+ bytes where the header says \d+$/);
  const base = randomPlan(2);
  t.equal(decode(encodePlan({ ...base, args: [] })).error, 'plan.args: empty');
  t.equal(decode(encodePlan({ ...base, sysctlPaths: ['/proc/sys/a'], sysctlValues: [] })).error, 'plan.sysctlValues: length differs from sysctlPaths');
  t.equal(decode(encodePlan({ ...base, uid: 2 ** 32 })).error, 'plan.uid: 4294967296 is out of range [0, 4294967295]');
  t.equal(decode(encodePlan({ ...base, cwd: 'a\0b' })).error, 'plan.cwd: contains a NUL byte');
  t.equal(decode(encodePlan({ ...base, seccomp: Buffer.alloc(12) })).error, 'plan.seccomp: 12 bytes is not a whole number of sock_filter');
  const many = Buffer.from(encodePlan({ ...base, mounts: [] }));
  // where the mounts count sits: the first byte after the header that differs between 0 and 1 mount
  const one = Buffer.from(encodePlan({ ...base, mounts: [{ source: null, target: '/x', fstype: null, flags: 0, propagation: [], data: null, bind: false, file: false, attrSet: 0n, attrClr: 0n, index: 0 }] }));
  let at = 12;
  while (many[at] === one[at]) at++;
  many.writeUInt32LE(0x7fffffff, at);
  t.equal(decode(many).error, 'plan.mounts: 2147483647 items cannot fit', 'a count larger than the bytes is refused before allocating');
  t.throws(() => encodePlan({ ...base, uid: 1.5 }), /1\.5 is not an integer/, 'the encoder refuses a fraction');
});
