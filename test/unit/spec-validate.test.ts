// validateSpec and the planner's refusals, case by case without root, with the values runc refuses
// (sysctls outside the container's namespaces, ids above 2147483647) and the capability default (none).
// The refusals the privileged tests check as root are mirrored in runtime-refusals.test.ts.
import t from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildCreatePlan, buildExecPlan, processPlan } from '../../lib/runtime/plan';
import { defaultSpec } from '../../lib/runtime/spec/default';
import type { Process, Spec } from '../../lib/runtime/spec/types';
import { parseSpec, validateContainerId, validateProcess, validateSpec } from '../../lib/runtime/spec/validate';

const bundle = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-spec-validate-'));
t.teardown(() => fs.rmSync(bundle, { recursive: true, force: true }));

/** What the privileged tests start from: runc's default config running /bin/true. */
function base(edit?: (s: Spec) => void): Spec {
  const s = defaultSpec();
  s.process!.terminal = false;
  s.process!.args = ['/bin/true'];
  s.hostname = 'berth';
  edit?.(s);
  return s;
}

/** validate + plan, as create does before anything exists; the error message, or null */
function refusal(s: Spec): string | null {
  try {
    validateSpec(s);
    buildCreatePlan(s, { bundle, execFifo: null, pauseAfterMounts: false });
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}

const userns = (s: Spec) => {
  s.linux!.namespaces!.push({ type: 'user' });
  s.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
  s.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
};
const without = (type: string) => (s: Spec) => { s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== type); };

t.test('refusals of validateSpec, each naming its field (runtime-refusals.test.ts mirrors the privileged ones)', async (t) => {
  t.throws(() => parseSpec('[1]'), /^config\.json: must be a JSON object$/);
  t.throws(() => validateContainerId(''), /^id: container id cannot be empty$/);
  t.equal(refusal(base()), null, 'the base config itself is accepted');
  const cases: [(s: Spec) => void, string][] = [
    [(s) => { s.ociVersion = ''; }, 'ociVersion: missing'],
    [(s) => { delete s.process; }, 'process: missing: a container needs a process'],
    [(s) => { s.process!.args = []; }, 'process.args: must name the program to run'],
    [(s) => { delete s.root; }, 'root.path: missing'],
    [(s) => { s.process!.user.umask = 0o1777; }, 'process.user.umask: must be an integer from 0 to 511'],
    [(s) => { s.process!.oomScoreAdj = 1001; }, 'process.oomScoreAdj: must be an integer from -1000 to 1000'],
    [(s) => { s.process!.apparmorProfile = 'docker-default'; }, 'process.apparmorProfile: AppArmor is not supported by berth on this host'],
    [(s) => { s.linux!.namespaces!.push({ type: 'pid' }); }, 'linux.namespaces[5].type: duplicate namespace "pid"'],
    [(s) => { s.linux!.namespaces![1].path = 'run/netns/x'; }, 'linux.namespaces[1].path: must be an absolute path'],
    [(s) => { s.linux!.namespaces!.push({ type: 'user' }); }, 'linux.uidMappings: a new user namespace needs uidMappings and gidMappings'],
    [(s) => { s.domainname = 'x'; without('uts')(s); s.hostname = ''; }, 'domainname: setting the domainname needs a uts namespace'],
    [(s) => { s.linux!.timeOffsets = { monotonic: { secs: 1 } }; }, 'linux.timeOffsets: time offsets need a time namespace'],
    [(s) => { s.linux!.rootfsPropagation = 'sideways'; }, 'linux.rootfsPropagation: unknown propagation "sideways"'],
    [(s) => { s.mounts![1].destination = 'dev'; }, 'mounts[1].destination: must be an absolute path inside the container'],
    [(s) => { s.mounts![0] = { destination: '/proc/', type: 'tmpfs', source: 'tmpfs' }; }, 'mounts[0]: mount /proc may only receive a procfs mount'],
    [(s) => { s.mounts![0] = { destination: '//proc', type: 'proc', source: '/proc', options: ['rbind'] }; }, 'mounts[0]: mount /proc may only receive a procfs mount'],
    [(s) => { s.linux!.devices = [{ type: 'x' as never, path: '/dev/x' }]; }, 'linux.devices[0].type: unknown device type "x"'],
    [(s) => { s.linux!.devices = [{ type: 'c', path: '/etc/x', major: 1, minor: 1 }]; }, 'linux.devices[0].path: must be a path under /dev'],
    [(s) => { s.linux!.devices = [{ type: 'c', path: '/dev/x' }]; }, 'linux.devices[0].major: must be an integer from 0 to 4294967295'],
    [(s) => { s.linux!.mountLabel = 'system_u'; }, 'linux.mountLabel: SELinux is not supported by berth on this host'],
    [(s) => { s.hooks = { poststart: [{ path: 'bin/true' }] }; }, 'hooks.poststart[0].path: must be an absolute path'],
    [(s) => { s.hooks = { prestart: [{ path: '/bin/true', timeout: 0 }] }; }, 'hooks.prestart[0].timeout: must be an integer from 1 to 4294967295'],
  ];
  for (const [edit, message] of cases) t.equal(refusal(base(edit)), message, message);
  t.equal(refusal(base((s) => { (s.hooks as Record<string, unknown>) = { onBoot: 'not a hook kind' }; })), null, 'unknown hook kinds are ignored, as Go does');
  t.equal(refusal(base((s) => { s.mounts!.push({ destination: '/proc/cpuinfo', type: 'bind', source: '/proc/cpuinfo', options: ['bind', 'ro'] }); })), null, 'a bind below /proc (lxcfs does it)');
});

t.test('sysctls: only those namespaced in a namespace of the container (runc\'s list and wording)', async (t) => {
  const sysctl = (key: string, edit?: (s: Spec) => void) => base((s) => { s.linux!.sysctl = { [key]: '1' }; edit?.(s); });
  const accepted: [string, Spec][] = [
    ['kernel.shmmax with an ipc namespace', sysctl('kernel.shmmax')],
    ['kernel.msgmnb', sysctl('kernel.msgmnb')],
    ['kernel.sem', sysctl('kernel.sem')],
    ['kernel.shm_rmid_forced', sysctl('kernel.shm_rmid_forced')],
    ['fs.mqueue.msg_max', sysctl('fs.mqueue.msg_max')],
    ['kernel/shmmax (the slash form)', sysctl('kernel/shmmax')],
    ['net.ipv4.ip_forward with a network namespace', sysctl('net.ipv4.ip_forward')],
    ['net/ipv4/conf/eth0.100/rp_filter', sysctl('net/ipv4/conf/eth0.100/rp_filter')],
    ['kernel.domainname with a uts namespace', sysctl('kernel.domainname')],
    ['user.max_user_namespaces with a user namespace (runc 1.2)', sysctl('user.max_user_namespaces', userns)],
    ['net.* in a joined netns that is not ours', sysctl('net.ipv4.ip_forward', (s) => { s.linux!.namespaces![1].path = '/proc/1/ns/net'; })],
  ];
  // pid 1's netns is another one only when the test runs in a namespace of its own (and may read it)
  const init = (() => { try { return fs.statSync('/proc/1/ns/net').ino; } catch { return -1; } })();
  const joinable = init !== -1 && init !== fs.statSync('/proc/self/ns/net').ino;
  for (const [name, s] of accepted) {
    if (name.startsWith('net.* in a joined') && !joinable) continue;
    t.equal(refusal(s), null, name);
  }
  const refused: [Spec, string][] = [
    [sysctl('kernel.core_pattern'), 'linux.sysctl.kernel.core_pattern: sysctl "kernel.core_pattern" is not in a separate kernel namespace'],
    [sysctl('kernel.printk_ratelimit_burst'), 'linux.sysctl.kernel.printk_ratelimit_burst: sysctl "kernel.printk_ratelimit_burst" is not in a separate kernel namespace'],
    [sysctl('vm.overcommit_memory'), 'linux.sysctl.vm.overcommit_memory: sysctl "vm.overcommit_memory" is not in a separate kernel namespace'],
    [sysctl('fs.file-max'), 'linux.sysctl.fs.file-max: sysctl "fs.file-max" is not in a separate kernel namespace'],
    [sysctl('kernel/core_pattern'), 'linux.sysctl.kernel/core_pattern: sysctl "kernel.core_pattern" is not in a separate kernel namespace'],
    [sysctl('kernel.shmmax', without('ipc')), 'linux.sysctl.kernel.shmmax: sysctl "kernel.shmmax" is not allowed in the hosts ipc namespace'],
    [sysctl('fs.mqueue.queues_max', without('ipc')), 'linux.sysctl.fs.mqueue.queues_max: sysctl "fs.mqueue.queues_max" is not allowed in the hosts ipc namespace'],
    [sysctl('net.ipv4.ip_forward', without('network')), 'linux.sysctl.net.ipv4.ip_forward: sysctl "net.ipv4.ip_forward" not allowed in host network namespace'],
    [sysctl('net.ipv4.ip_forward', (s) => { s.linux!.namespaces![1].path = '/proc/self/ns/net'; }), 'linux.sysctl.net.ipv4.ip_forward: sysctl "net.ipv4.ip_forward" not allowed in host network namespace'],
    [sysctl('kernel.hostname'), 'linux.sysctl.kernel.hostname: sysctl "kernel.hostname" is not allowed as it conflicts with the OCI "hostname" field'],
    [sysctl('kernel.domainname', (s) => { without('uts')(s); s.hostname = ''; }), 'linux.sysctl.kernel.domainname: sysctl "kernel.domainname" is not in a separate kernel namespace'],
    [sysctl('user.max_user_namespaces'), 'linux.sysctl.user.max_user_namespaces: setting ucounts without a user namespace not allowed: user.max_user_namespaces'],
    [sysctl('kernel.shmmax\nkernel.core_pattern'), 'linux.sysctl["kernel.shmmax\\nkernel.core_pattern"]: sysctl "kernel.shmmax\\nkernel.core_pattern" is not in a separate kernel namespace'],
  ];
  for (const [s, message] of refused) t.equal(refusal(s), message, message);
  t.match(refusal(sysctl('net.ipv4.ip_forward', (s) => { s.linux!.namespaces![1].path = '/run/netns/berth-no-such-netns'; })),
    /^linux\.namespaces: invalid netns path: ENOENT/, 'a netns path that does not exist');
});

t.test('uids and gids above 2147483647 are refused as runc refuses them; mappings as the kernel does', async (t) => {
  const cases: [(s: Spec) => void, string][] = [
    [(s) => { s.process!.user.uid = 4294967295; }, 'process.user.uid: uids and gids must be in range 0-2147483647, got 4294967295'],
    [(s) => { s.process!.user.gid = 4294967295; }, 'process.user.gid: uids and gids must be in range 0-2147483647, got 4294967295'],
    [(s) => { s.process!.user.additionalGids = [0, 4294967295]; }, 'process.user.additionalGids[1]: uids and gids must be in range 0-2147483647, got 4294967295'],
    [(s) => { s.process!.user.uid = 2147483648; }, 'process.user.uid: uids and gids must be in range 0-2147483647, got 2147483648'],
    [(s) => { userns(s); s.linux!.uidMappings = [{ containerID: 0, hostID: 4294967295, size: 1 }]; }, 'linux.uidMappings[0]: hostID 4294967295 + size 1 reaches 4294967295 ((uid_t)-1), which no mapping may include'],
    [(s) => { userns(s); s.linux!.gidMappings = [{ containerID: 4294967295, hostID: 0, size: 1 }]; }, 'linux.gidMappings[0]: containerID 4294967295 + size 1 reaches 4294967295 ((uid_t)-1), which no mapping may include'],
    [(s) => { userns(s); s.linux!.uidMappings = [{ containerID: 0, hostID: 1, size: 4294967295 }]; }, 'linux.uidMappings[0]: hostID 1 + size 4294967295 reaches 4294967295 ((uid_t)-1), which no mapping may include'],
    [(s) => { userns(s); s.linux!.uidMappings = [{ containerID: 0, hostID: 1, size: 0 }]; }, 'linux.uidMappings[0].size: must be at least 1'],
  ];
  for (const [edit, message] of cases) t.equal(refusal(base(edit)), message, message);
  // runc (and the kernel) accept these: ids up to 4294967294 exist on the host and in the container
  t.equal(refusal(base((s) => { userns(s); s.linux!.uidMappings = [{ containerID: 0, hostID: 0, size: 4294967295 }]; })), null, 'the whole range');
  t.equal(refusal(base((s) => { userns(s); s.linux!.uidMappings = [{ containerID: 0, hostID: 2147483648, size: 1 }]; })), null, 'a host id above 2^31');
  t.equal(refusal(base((s) => { s.process!.user = { uid: 2147483647, gid: 2147483647, additionalGids: [2147483647] }; })), null, '2147483647 itself');
});

t.test('no capabilities, or no set, is an empty set: not the runtime\'s own', async (t) => {
  const p = base().process!;
  delete p.capabilities;
  const none = { bounding: 0n, effective: 0n, inheritable: 0n, permitted: 0n, ambient: 0n };
  t.same(processPlan(p).capabilities, none, 'absent');
  const n = base((s) => { (s.process as unknown as Record<string, unknown>).capabilities = null; });
  validateSpec(n);
  t.same(processPlan(n.process!).capabilities, none, 'null');
  const b = base((s) => { s.process!.capabilities = { bounding: ['CAP_KILL'] }; });
  t.same(processPlan(b.process!).capabilities, { ...none, bounding: 1n << 5n }, 'only bounding given: the others empty');
  const d = base();
  t.same(processPlan(d.process!).capabilities, { ...none, bounding: 0x20000420n, effective: 0x20000420n, permitted: 0x20000420n, ambient: 0x20000420n }, 'runc\'s default');
});

t.test('exec checks its process as create does', async (t) => {
  const exec = (edit: (p: Process) => void) => {
    const p = structuredClone(base().process!);
    edit(p);
    try {
      buildExecPlan({ pid: 1, namespaces: ['mount'], process: p });
      return null;
    } catch (e) {
      return (e as Error).message;
    }
  };
  t.equal(exec(() => {}), null);
  t.equal(exec((p) => { p.user.uid = 4294967295; }), 'process.user.uid: uids and gids must be in range 0-2147483647, got 4294967295');
  t.equal(exec((p) => { p.user.gid = NaN; }), 'process.user.gid: expected uint32, got NaN', '`exec -u 0:x` gives NaN');
  t.equal(exec((p) => { p.args = ['/bin/sh\0', '-c', 'x']; }), 'process.args[0]: contains a NUL byte');
  t.equal(exec((p) => { p.env = 'A=b' as never; }), 'process.env: expected array, got string');
  t.equal(exec((p) => { p.cwd = 'tmp'; }), 'process.cwd: must be an absolute path');
  const noCaps = structuredClone(base().process!);
  delete noCaps.capabilities;
  t.same(buildExecPlan({ pid: 1, namespaces: [], process: noCaps }).capabilities?.bounding, 0n, 'an exec process without capabilities gets none');
  t.throws(() => validateProcess(null), /^process: missing/);
});
