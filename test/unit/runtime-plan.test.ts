// The launch plan builders (lib/runtime/plan.ts, mount-options.ts) case by case, without root: what
// config.json turns into, as the steps and arguments the C bootstrap executes. The privileged tests
// (runtime-config) check that the kernel then does what the plan says.
import t from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CLONE, MS } from '../../lib/sys/native';
import { compileSeccomp } from '../../lib/runtime/seccomp';
import { hostId, idMapText } from '../../lib/runtime/lifecycle/id-maps';
import { parseMountOptions } from '../../lib/runtime/mount-options';
import { buildCreatePlan, buildExecPlan, DEFAULT_DEVICES, mountSteps, namespacePlan, type CreatePlanOptions } from '../../lib/runtime/plan';
import type { LaunchPlan, MountStep } from '../../lib/runtime/launch-plan';
import type { Mount, Spec } from '../../lib/runtime/spec/types';
import { validateSpec } from '../../lib/runtime/spec/validate';
import { baseSpec } from '../helpers/bundle';

const U64_MAX = (1n << 64n) - 1n;

// a bundle with a rootfs holding an /etc/passwd, a directory and a file to bind
const bundle = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-plan-'));
t.teardown(() => fs.rmSync(bundle, { recursive: true, force: true }));
fs.mkdirSync(path.join(bundle, 'rootfs', 'etc'), { recursive: true });
fs.writeFileSync(path.join(bundle, 'rootfs', 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n');
fs.mkdirSync(path.join(bundle, 'data'));
fs.writeFileSync(path.join(bundle, 'data', 'file'), 'x');

/** runc's default config running /bin/true from the bundle's rootfs (what the privileged tests start from). */
function spec(edit?: (s: Spec) => void): Spec {
  const s = baseSpec(['/bin/true']);
  s.root = { path: 'rootfs', readonly: false };
  edit?.(s);
  validateSpec(s);
  return s;
}

function plan(edit?: (s: Spec) => void, opts: Partial<CreatePlanOptions> = {}): LaunchPlan {
  return buildCreatePlan(spec(edit), { bundle, execFifo: null, pauseAfterMounts: false, ...opts });
}

/** The plan's refusal of a config (after validation passed), as its one line. */
function refusal(edit: (s: Spec) => void): string | null {
  try {
    plan(edit);
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}

/** The plan's mount steps for config mounts alone. */
function mounts(...list: Mount[]): MountStep[] {
  return mountSteps({ ociVersion: '1.0.2', mounts: list }, bundle);
}

t.test('namespaces: new ones are clone flags, a new user namespace its own step, joined ones paths (user first)', async (t) => {
  t.same(namespacePlan([{ type: 'pid' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }]), {
    cloneFlags: CLONE.NEWPID | CLONE.NEWNET | CLONE.NEWIPC | CLONE.NEWUTS | CLONE.NEWNS, newUserns: false, join: [],
  }, 'runc\'s default set');
  t.same(namespacePlan([{ type: 'cgroup' }, { type: 'time' }]), { cloneFlags: CLONE.NEWCGROUP | CLONE.NEWTIME, newUserns: false, join: [] });
  t.same(namespacePlan([{ type: 'mount' }, { type: 'user' }]), { cloneFlags: CLONE.NEWNS, newUserns: true, join: [] }, 'user is not a clone flag: it is created first, maps written');
  t.same(namespacePlan([{ type: 'network', path: '/run/netns/a' }, { type: 'ipc', path: '/proc/9/ns/ipc' }, { type: 'user', path: '/proc/9/ns/user' }, { type: 'pid' }]), {
    cloneFlags: CLONE.NEWPID,
    newUserns: false,
    join: [
      { type: CLONE.NEWUSER, path: '/proc/9/ns/user' },
      { type: CLONE.NEWNET, path: '/run/netns/a' },
      { type: CLONE.NEWIPC, path: '/proc/9/ns/ipc' },
    ],
  }, 'joins in config order, the user namespace moved first (setns into the others needs its capabilities)');
  t.same(namespacePlan([]), { cloneFlags: 0, newUserns: false, join: [] }, 'no namespaces: the host\'s');

  const noMountns = plan((s) => { s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'mount'); s.linux!.maskedPaths = []; s.linux!.readonlyPaths = []; });
  t.equal(noMountns.cloneFlags & CLONE.NEWNS, 0, 'a missing mount namespace: none created');
  t.equal(noMountns.mounts.length, 7, 'the mounts are still planned (made below the rootfs bind in the caller\'s namespace)');
  const joinedUser = plan((s) => { s.linux!.namespaces!.push({ type: 'user', path: '/proc/1/ns/user' }); });
  t.same(joinedUser.join, [{ type: CLONE.NEWUSER, path: '/proc/1/ns/user' }]);
  t.ok(joinedUser.devices.every((d) => d.bind), 'in a joined user namespace devices are bound from the host (no mknod)');
});

t.test('mount options: flags set and cleared in order, propagation, recursive attributes, filesystem data', async (t) => {
  t.same(parseMountOptions(['nosuid', 'nodev', 'size=1m', 'mode=700'], 'f'), { flags: MS.NOSUID | MS.NODEV, propagation: [], attrSet: 0n, attrClr: 0n, data: ['size=1m', 'mode=700'], bind: false });
  t.equal(parseMountOptions(['ro', 'rw'], 'f').flags, 0, 'rw clears ro');
  t.equal(parseMountOptions(['rw', 'ro'], 'f').flags, MS.RDONLY);
  t.equal(parseMountOptions(['nosuid', 'suid', 'noexec'], 'f').flags, MS.NOEXEC);
  t.equal(parseMountOptions(['defaults'], 'f').flags, 0);
  t.same(parseMountOptions(['rbind'], 'f'), { flags: MS.BIND | MS.REC, propagation: [], attrSet: 0n, attrClr: 0n, data: [], bind: true });
  t.same(parseMountOptions(['rprivate', 'shared', 'rslave', 'unbindable'], 'f').propagation, [MS.PRIVATE | MS.REC, MS.SHARED, MS.SLAVE | MS.REC, MS.UNBINDABLE], 'propagation changes in order, one mount(2) each');
  const rro = parseMountOptions(['rro', 'rnosuid', 'rsuid', 'rnoexec'], 'f');
  t.same([rro.attrSet, rro.attrClr], [0x1n | 0x8n, 0x2n], 'rro and friends: mount_setattr set and clear, the later option winning');
  const atime = parseMountOptions(['rnoatime', 'rstrictatime'], 'f');
  t.same([atime.attrSet, atime.attrClr], [0x20n, 0x70n], 'an atime mode replaces the whole atime field');
  t.same(parseMountOptions(['tmpcopyup', 'norecursive_atime'], 'f').data, [], 'runc extensions without effect are dropped, not passed to the filesystem');
  t.throws(() => parseMountOptions(['rbind', 'idmap'], 'mounts[3].options'), { message: 'mounts[3].options[1]: "idmap" (id-mapped mounts) is not supported' });
  t.throws(() => parseMountOptions(['ro', 5 as never], 'mounts[0].options'), { message: 'mounts[0].options[1]: must be a string' });
});

t.test('mounts: bind, rbind, file binds, relative sources, proc and sysfs, tmpfs data', async (t) => {
  const [dir, file, rel, tmpfs, proc, sysfs] = mounts(
    { destination: '/data', type: 'bind', source: '/srv', options: ['rbind', 'ro', 'rprivate'] },
    { destination: '/etc/single', type: 'bind', source: path.join(bundle, 'data', 'file'), options: ['bind', 'ro'] },
    { destination: '/rel', type: 'none', source: 'data', options: ['bind'] },
    { destination: '/scratch', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'size=1m', 'mode=700'] },
    { destination: '/proc', type: 'proc', source: 'proc' },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
  );
  t.same(dir, {
    source: '/srv', target: '/data', fstype: null, flags: MS.BIND | MS.REC | MS.RDONLY, propagation: [MS.PRIVATE | MS.REC],
    data: null, bind: true, file: false, attrSet: 0n, attrClr: 0n, index: 0,
  }, 'a bind has no filesystem type; ro is applied by a remount (the flag rides along)');
  t.same([file.bind, file.file, file.flags], [true, true, MS.BIND | MS.RDONLY], 'a bind of a file: the mountpoint is made as a file');
  t.same([rel.source, rel.fstype, rel.bind, rel.file, rel.index], [path.join(bundle, 'data'), null, true, false, 2], 'a relative bind source is the bundle\'s; "bind" makes any type a bind');
  t.same(tmpfs, {
    source: 'tmpfs', target: '/scratch', fstype: 'tmpfs', flags: MS.NOSUID | MS.NODEV, propagation: [], data: 'size=1m,mode=700',
    bind: false, file: false, attrSet: 0n, attrClr: 0n, index: 3,
  });
  t.same([proc.fstype, proc.source, proc.flags, proc.data], ['proc', 'proc', 0, null]);
  t.same([sysfs.fstype, sysfs.flags], ['sysfs', MS.NOSUID | MS.NOEXEC | MS.NODEV | MS.RDONLY]);
  t.same(mounts({ destination: '/gone', type: 'bind', source: '/nonexistent/berth-src', options: ['rbind'] })[0].file, false, 'a missing source is planned as a directory: mount(2) reports it with its path');
  const [cg] = mounts({ destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['ro'] });
  t.same([cg.source, cg.fstype, cg.flags, cg.index], ['tmpfs', 'tmpfs', 0, 0], 'a cgroup mount without cgroups: an empty tmpfs, writable for its binds');
  t.equal(refusal((s) => { s.mounts!.push({ destination: '/x', type: 'bind', source: '/tmp', options: ['rbind', 'idmap'] }); }), 'mounts[7].options[1]: "idmap" (id-mapped mounts) is not supported');
});

t.test('root, masked and read-only paths, propagation, hostname, sysctls, time offsets, personality', async (t) => {
  const p = plan((s) => {
    s.root!.readonly = true;
    s.linux!.rootfsPropagation = 'rslave';
    s.domainname = 'example.test';
    s.linux!.sysctl = { 'net.ipv4.ip_forward': '1', 'kernel.shmmax': '100' };
    s.linux!.namespaces!.push({ type: 'time' });
    s.linux!.timeOffsets = { boottime: { secs: 86400 }, monotonic: { secs: 1, nanosecs: 5 } };
    s.linux!.personality = { domain: 'LINUX32' };
  });
  t.equal(p.rootfs, path.join(bundle, 'rootfs'), 'root.path relative to the bundle');
  t.equal(plan((s) => { s.root!.path = path.join(bundle, 'rootfs'); }).rootfs, path.join(bundle, 'rootfs'), 'or absolute');
  t.equal(p.readonlyRoot, true);
  t.equal(p.rootPropagation, MS.SLAVE | MS.REC);
  t.equal(plan().rootPropagation, 0, 'none given: the bootstrap\'s default (rprivate)');
  t.same(p.maskedPaths, spec().linux!.maskedPaths, 'masked paths as given, in order');
  t.same(p.readonlyPaths, ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger']);
  t.same([p.hostname, p.domainname], ['berth', 'example.test']);
  t.same(p.sysctlPaths, ['/proc/sys/net/ipv4/ip_forward', '/proc/sys/kernel/shmmax'], 'dots become slashes (runc)');
  t.same(p.sysctlValues, ['1', '100']);
  t.equal(p.timeOffsets, 'boottime 86400 0\nmonotonic 1 5');
  t.equal(p.cloneFlags & CLONE.NEWTIME, CLONE.NEWTIME);
  t.equal(p.personality, 0x0008);
  t.equal(plan().personality, -1, 'no personality: unchanged');
  t.equal(refusal((s) => { s.linux!.personality = { domain: 'LINUX64' }; }), 'linux.personality.domain: unknown personality domain "LINUX64" (LINUX or LINUX32)');
  t.equal(refusal((s) => { s.linux!.personality = { domain: 'LINUX', flags: ['NOPE'] }; }), 'linux.personality.flags[0]: unknown personality flag "NOPE"');
});

t.test('devices: the default set unless configured, then the configured ones; bound in a user namespace', async (t) => {
  const p = plan((s) => {
    s.linux!.devices = [
      { type: 'c', path: '/dev/mynull', major: 1, minor: 3, fileMode: 0o640, uid: 7, gid: 8 },
      { type: 'c', path: '/dev/tty', major: 5, minor: 0 },
      { type: 'b', path: '/dev/sda', major: 8, minor: 0 },
      { type: 'p', path: '/dev/fifo' },
    ];
  });
  t.same(p.devices.map((d) => `${d.path} ${d.index}`), [
    ...DEFAULT_DEVICES.filter((d) => d.path !== '/dev/tty').map((d) => `${d.path} -1`), '/dev/mynull 0', '/dev/tty 1', '/dev/sda 2', '/dev/fifo 3',
  ], 'a configured /dev/tty replaces the default one');
  t.same(p.devices.find((d) => d.path === '/dev/mynull'), { path: '/dev/mynull', mode: 0o020000 | 0o640, major: 1, minor: 3, uid: 7, gid: 8, bind: false, index: 0 });
  t.equal(p.devices.find((d) => d.path === '/dev/sda')!.mode, 0o060000 | 0o666, 'block device, default mode 0666');
  t.equal(p.devices.find((d) => d.path === '/dev/fifo')!.mode, 0o010000 | 0o666);
  t.equal(p.defaultLinks, true, '/dev/fd, /dev/ptmx and friends');
  const userns = plan((s) => {
    s.linux!.namespaces!.push({ type: 'user' });
    s.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    s.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
  });
  t.equal(userns.newUserns, true);
  t.ok(userns.devices.length === 6 && userns.devices.every((d) => d.bind), 'a new user namespace cannot mknod: every device is a bind of the host\'s');
});

t.test('id maps: the text the parent writes to /proc/<pid>/{uid,gid}_map, and host ids of container ids', async (t) => {
  const maps = [{ containerID: 0, hostID: 100000, size: 1000 }, { containerID: 1000, hostID: 5000, size: 1 }];
  t.equal(idMapText(maps), '0 100000 1000\n1000 5000 1\n');
  t.equal(idMapText(undefined), '');
  t.equal(hostId(maps, 0), 100000, 'the exec fifo belongs to the host id of container root');
  t.equal(hostId(maps, 999), 100999);
  t.equal(hostId(maps, 1000), 5000);
  t.equal(hostId(maps, 2000), 2000, 'unmapped: itself');
  t.equal(hostId(undefined, 42), 42);
});

t.test('process: args, env and HOME, cwd, user and groups, umask, oom_score_adj', async (t) => {
  const p = plan((s) => {
    s.process!.args = ['/bin/sh', '-c', 'pwd', 'ignored'];
    s.process!.cwd = '/tmp';
    s.process!.user = { uid: 1000, gid: 1001, additionalGids: [20, 30], umask: 0o027 };
    s.process!.oomScoreAdj = 500;
  });
  t.same(p.args, ['/bin/sh', '-c', 'pwd', 'ignored']);
  t.equal(p.cwd, '/tmp', 'an absolute cwd as given');
  t.same([p.uid, p.gid, p.additionalGids, p.setGroups, p.umask], [1000, 1001, [20, 30], true, 0o027]);
  t.equal(p.oomScoreAdj, 500);
  t.same(p.env, ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm', 'HOME=/home/app'], 'HOME from the rootfs\'s /etc/passwd for uid 1000');
  const root = plan();
  t.same([root.uid, root.gid, root.additionalGids, root.umask, root.oomScoreAdj], [0, 0, [], -1, null], 'defaults: root, no groups, umask and oom_score_adj unchanged');
  t.equal(root.env.at(-1), 'HOME=/root');
  t.equal(plan((s) => { s.process!.user.uid = 4242; }).env.at(-1), 'HOME=/', 'a uid without an entry: /');
  t.same(plan((s) => { s.process!.env = ['HOME=/mine']; }).env, ['HOME=/mine'], 'a HOME given is kept');
  const passwd = path.join(bundle, 'data', 'passwd');
  fs.writeFileSync(passwd, 'root:x:0:0::/from-bind:/bin/sh\n');
  t.equal(plan((s) => { s.mounts!.push({ destination: '/etc/passwd', type: 'bind', source: passwd, options: ['bind'] }); }).env.at(-1), 'HOME=/from-bind', 'a bind over /etc/passwd is what the process will read');
  t.equal(plan((s) => { s.mounts!.push({ destination: '/etc', type: 'tmpfs', source: 'tmpfs' }); }).env.at(-1), 'HOME=/', 'a tmpfs over /etc hides it');
});

t.test('rlimits: numbers, unlimited, soft above hard refused, unknown type refused', async (t) => {
  const p = plan((s) => {
    s.process!.rlimits = [
      { type: 'RLIMIT_NOFILE', soft: 123, hard: 456 },
      { type: 'RLIMIT_CORE', soft: -1, hard: -1 },
      { type: 'RLIMIT_AS', soft: 18446744073709551615, hard: 18446744073709551615 },
    ];
  });
  t.same(p.rlimits, [
    { resource: 7, soft: 123n, hard: 456n },
    { resource: 4, soft: U64_MAX, hard: U64_MAX },
    { resource: 9, soft: U64_MAX, hard: U64_MAX },
  ], '-1 and 2^64-1 (which JSON rounds up) are RLIM_INFINITY');
  t.same(plan((s) => { delete s.process!.rlimits; }).rlimits, [], 'none: inherited');
  t.equal(refusal((s) => { s.process!.rlimits = [{ type: 'RLIMIT_NOPE', soft: 1, hard: 1 }]; }), 'process.rlimits[0].type: unknown rlimit type "RLIMIT_NOPE"');
  t.equal(refusal((s) => { s.process!.rlimits!.push({ type: 'RLIMIT_NPROC', soft: 10, hard: 5 }); }), 'process.rlimits[1]: soft limit 10 is above hard limit 5');
});

t.test('capabilities and no_new_privs', async (t) => {
  const bit = (n: number) => 1n << BigInt(n);
  const p = plan((s) => {
    const caps = ['CAP_CHOWN', 'CAP_NET_RAW', 'CAP_SYS_ADMIN'];
    s.process!.capabilities = { bounding: [...caps, 'CAP_KILL'], effective: caps, permitted: caps, inheritable: ['CAP_CHOWN'], ambient: ['CAP_CHOWN'] };
  });
  const three = bit(0) | bit(13) | bit(21);
  t.same(p.capabilities, { bounding: three | bit(5), effective: three, permitted: three, inheritable: bit(0), ambient: bit(0) });
  t.equal(p.noNewPrivileges, true, 'runc\'s default config sets it');
  t.equal(plan((s) => { s.process!.noNewPrivileges = false; }).noNewPrivileges, false);
  t.equal(plan((s) => { delete s.process!.noNewPrivileges; }).noNewPrivileges, false, 'absent: off');
  t.equal(refusal((s) => { s.process!.capabilities!.effective = ['CAP_KILL', 'CAP_NOPE']; }), 'process.capabilities.effective[1]: unknown capability "CAP_NOPE"');
});

t.test('seccomp: the compiled program and flags go into the plan as given; exec gets the container\'s', async (t) => {
  const profile = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }] };
  const compiled = compileSeccomp(profile);
  t.ok(compiled.filter.length > 0 && compiled.filter.length % 8 === 0, 'a BPF program of 8-byte instructions');
  const p = plan(undefined, { seccomp: { filter: compiled.filter, flags: compiled.flags } });
  t.equal(p.seccomp, compiled.filter);
  t.equal(p.seccompFlags, compiled.flags);
  t.same([plan().seccomp, plan().seccompFlags], [null, 0], 'no profile: no filter');
  const e = buildExecPlan({ pid: process.pid, namespaces: [], process: spec().process!, seccomp: { filter: compiled.filter, flags: 1 } });
  t.same([e.seccomp, e.seccompFlags], [compiled.filter, 1]);
});

t.test('hooks: createContainer and startContainer run by the bootstrap, with path as argv[0] by default', async (t) => {
  const p = plan((s) => {
    s.hooks = {
      prestart: [{ path: '/bin/prestart' }],
      createContainer: [{ path: '/bin/a' }, { path: '/bin/b', args: ['b', '-x'], env: ['K=v'], timeout: 5 }],
      startContainer: [{ path: '/bin/c', args: [] }],
      poststart: [{ path: '/bin/poststart' }],
    };
  }, { pauseAfterMounts: true });
  t.same(p.createContainerHooks, [
    { path: '/bin/a', args: ['/bin/a'], env: [], timeout: 0, index: 0 },
    { path: '/bin/b', args: ['b', '-x'], env: ['K=v'], timeout: 5, index: 1 },
  ]);
  t.same(p.startContainerHooks, [{ path: '/bin/c', args: ['/bin/c'], env: [], timeout: 0, index: 0 }], 'empty args: argv[0] is the path');
  t.equal(p.pauseAfterMounts, true, 'the bootstrap waits for the parent\'s state JSON and host-side hooks after the mounts');
  t.same([plan().createContainerHooks, plan().startContainerHooks, plan().pauseAfterMounts], [[], [], false]);
});

t.test('console, stdio, exec fifo and passed descriptors', async (t) => {
  const p = plan((s) => { s.process!.terminal = true; s.process!.consoleSize = { height: 24, width: 80 }; }, {
    consoleSocketFd: 9, execFifo: '/run/berth/x/exec.fifo', preserveFds: 2, stdio: [3, 4, 5], noPivot: true,
  });
  t.same([p.terminal, p.consoleRows, p.consoleCols, p.consoleSocketFd], [true, 24, 80, 9]);
  t.same([p.execFifo, p.preserveFds, p.stdio, p.noPivot, p.setsid], ['/run/berth/x/exec.fifo', 2, [3, 4, 5], true, true]);
  const d = plan();
  t.same([d.terminal, d.consoleRows, d.consoleCols, d.consoleSocketFd, d.execFifo, d.preserveFds, d.stdio, d.noPivot], [false, 0, 0, -1, null, 0, [-1, -1, -1], false], 'defaults: no console, inherit stdio');
});

t.test('exec: joins every namespace the container still has, user first, and plans nothing of the rootfs', async (t) => {
  const p = buildExecPlan({
    pid: 4321, namespaces: ['pid', 'network', 'mount', 'user', 'ipc', 'uts', 'cgroup'],
    process: { ...spec().process!, env: ['HOME=/h'], terminal: true, consoleSize: { height: 10, width: 20 } }, consoleSocketFd: 7, setsid: true,
  });
  t.same(p.join, [
    { type: CLONE.NEWUSER, path: '/proc/4321/ns/user' },
    { type: CLONE.NEWPID, path: '/proc/4321/ns/pid' },
    { type: CLONE.NEWNET, path: '/proc/4321/ns/net' },
    { type: CLONE.NEWNS, path: '/proc/4321/ns/mnt' },
    { type: CLONE.NEWIPC, path: '/proc/4321/ns/ipc' },
    { type: CLONE.NEWUTS, path: '/proc/4321/ns/uts' },
    { type: CLONE.NEWCGROUP, path: '/proc/4321/ns/cgroup' },
  ]);
  t.same([p.cloneFlags, p.newUserns, p.rootfs, p.mounts, p.devices, p.maskedPaths, p.readonlyPaths, p.defaultLinks, p.hostname], [0, false, null, [], [], [], [], false, null]);
  t.same([p.terminal, p.consoleRows, p.consoleCols, p.consoleSocketFd, p.setsid, p.execFifo], [true, 10, 20, 7, true, null]);
  t.same([p.createContainerHooks, p.startContainerHooks, p.sysctlPaths, p.personality], [[], [], [], -1]);
  t.equal(buildExecPlan({ pid: 1, namespaces: [], process: spec().process! }).setsid, false, 'no terminal: the caller\'s session');
  // the HOME lookup reads the container's passwd through /proc/<pid>/root: here, our own root's
  const own = buildExecPlan({ pid: process.pid, namespaces: ['mount'], process: { ...spec().process!, env: [] } });
  const hostRootHome = /^root:[^:]*:0:[^:]*:[^:]*:([^:]*):/m.exec(fs.readFileSync('/etc/passwd', 'utf8'))?.[1];
  t.same(own.env, [`HOME=${hostRootHome || '/'}`]);
  t.throws(() => buildExecPlan({ pid: 1, namespaces: [], process: { ...spec().process!, rlimits: [{ type: 'RLIMIT_NOPE', soft: 1, hard: 1 }] } }), { message: 'process.rlimits[0].type: unknown rlimit type "RLIMIT_NOPE"' });
});

t.test('cgroups joined by the process itself only when it is cloned straight from the caller', async (t) => {
  const selfJoin = { tasks: ['/sys/fs/cgroup/memory/c/tasks'], v2: '/sys/fs/cgroup/unified/c' };
  const direct = plan(undefined, { selfJoin });
  t.same([direct.cgroupTasks, direct.cgroupV2, direct.waitPlaced], [selfJoin.tasks, selfJoin.v2, true], 'new namespaces only: the files to write');
  t.same([plan().cgroupTasks, plan().cgroupV2], [[], null], 'none given: the parent joins');
  const refused: [string, (s: Spec) => void][] = [
    ['a user namespace (a mapped root may not write host cgroup files)', (s) => {
      s.linux!.namespaces!.push({ type: 'user' });
      s.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 1 }];
      s.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 1 }];
    }],
    ['a joined namespace (stage 1 joins it first)', (s) => { s.linux!.namespaces = s.linux!.namespaces!.map((n) => (n.type === 'network' ? { ...n, path: '/proc/1/ns/net' } : n)); }],
    ['time offsets (stage 1 writes them first)', (s) => {
      s.linux!.namespaces!.push({ type: 'time' });
      s.linux!.timeOffsets = { monotonic: { secs: 1 } };
    }],
  ];
  for (const [why, edit] of refused) {
    const p = plan(edit, { selfJoin });
    t.same([p.cgroupTasks, p.cgroupV2], [[], null], why);
  }
  t.same(buildExecPlan({ pid: 1, namespaces: ['pid'], process: spec().process! }).cgroupTasks, [], 'exec: the parent joins');
});
