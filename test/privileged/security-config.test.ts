// Configs that hand a container host privilege, run through `berth run` and, as the control, through runc on
// the same bundle (issue 16, defects 2-5): no capabilities must mean none, host-wide sysctls must not reach
// the host, uids above 2147483647 ((uid_t)-1 is "unchanged", i.e. root) must not run, and wrongly typed or
// NUL-carrying fields must be refused naming the field. runc's verdict (refused / ran) and berth's must
// agree; where both run, so must the capability sets the process sees.
import { reexecIsolated } from '../helpers/isolate';
reexecIsolated();

import t from 'tap';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { berth, bundle, command, leftovers, type RunResult } from '../helpers/run';
import { uniqueId } from '../helpers/bundle';
import { cgroupParent, removeCgroupParent } from '../helpers/cgroup-parent';
import type { Spec } from '../../lib/runtime/spec/types';

const RUNC = ['/usr/sbin/runc', '/usr/bin/runc'].find((p) => fs.existsSync(p));
if (!RUNC) throw new Error('runc not found: the control of this test (scripts/setup.sh installs it)');

const parent = cgroupParent(`berth-sec-spec-${process.pid}`);
t.teardown(() => removeCgroupParent(parent));

// What the process sees of itself: capability sets, ids, and whether it can make /proc/sys writable again.
const PROBE = 'grep -E "^Cap(Prm|Eff|Bnd)" /proc/self/status; id; mount -o remount,rw /proc/sys 2>/dev/null && echo remounted /proc/sys rw || echo /proc/sys stays ro';

interface Case {
  name: string;
  edit: (s: Spec) => void;
  /** both refuse, berth with this one line; absent: both run */
  refused?: RegExp;
  /** the process's output, where both run (beyond agreeing with runc's) */
  output?: RegExp;
  /** why berth's verdict differs from runc's, when it does */
  differs?: string;
}

const userns = (uid: { containerID: number; hostID: number; size: number }[]) => (s: Spec) => {
  s.linux!.namespaces!.push({ type: 'user' });
  s.linux!.uidMappings = uid;
  s.linux!.gidMappings = [{ containerID: 0, hostID: 0, size: 65536 }];
  // sysfs and cgroupfs belong to the host's user namespace here: leave them out, as rootless runc does
  s.mounts = s.mounts!.filter((m) => !m.destination.startsWith('/sys'));
};
/** sets what the Spec type does not allow: the wrong types and nulls under test */
const set = (o: object, key: string, value: unknown) => { (o as Record<string, unknown>)[key] = value; };
const without = (type: string) => (s: Spec) => { s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== type); };

const HOST_SYSCTL = '/proc/sys/kernel/printk_ratelimit_burst'; // host-wide, and harmless to change for a moment
const hostBurst = fs.readFileSync(HOST_SYSCTL, 'utf8').trim();
t.teardown(() => { if (fs.readFileSync(HOST_SYSCTL, 'utf8').trim() !== hostBurst) fs.writeFileSync(HOST_SYSCTL, hostBurst); });

const cases: Case[] = [
  // defect 2: capabilities
  { name: 'no process.capabilities: no capability at all', edit: (s) => { delete s.process!.capabilities; }, output: /CapEff:\s+0{16}\n[^]*\/proc\/sys stays ro/ },
  { name: 'process.capabilities null: none', edit: (s) => { set(s.process!, 'capabilities', null); }, output: /CapEff:\s+0{16}\n[^]*\/proc\/sys stays ro/ },
  { name: 'only a bounding set: the others are empty', edit: (s) => { s.process!.capabilities = { bounding: ['CAP_SYS_ADMIN', 'CAP_KILL'] }; }, output: /CapPrm:\s+0{16}\nCapEff:\s+0{16}\nCapBnd:\s+0+200020\n/ },
  { name: 'runc\'s default capabilities (the control agrees)', edit: () => {}, output: /CapEff:\s+0+20000420\n/ },
  // defect 3: sysctls
  { name: 'a host-wide kernel.* sysctl', edit: (s) => { s.linux!.sysctl = { 'kernel.printk_ratelimit_burst': String(Number(hostBurst) + 1) }; }, refused: /^berth: linux\.sysctl\.kernel\.printk_ratelimit_burst: sysctl "kernel\.printk_ratelimit_burst" is not in a separate kernel namespace$/ },
  { name: 'the slash form of a host-wide sysctl', edit: (s) => { s.linux!.sysctl = { 'kernel/printk_ratelimit_burst': String(Number(hostBurst) + 1) }; }, refused: /^berth: linux\.sysctl\.kernel\/printk_ratelimit_burst: sysctl "kernel\.printk_ratelimit_burst" is not in a separate kernel namespace$/ },
  { name: 'kernel.hostname beside the hostname field', edit: (s) => { s.linux!.sysctl = { 'kernel.hostname': 'other' }; }, refused: /^berth: linux\.sysctl\.kernel\.hostname: sysctl "kernel\.hostname" is not allowed as it conflicts with the OCI "hostname" field$/ },
  { name: 'an IPC sysctl without an ipc namespace', edit: (s) => { without('ipc')(s); s.linux!.sysctl = { 'kernel.shmmni': '100' }; }, refused: /^berth: linux\.sysctl\.kernel\.shmmni: sysctl "kernel\.shmmni" is not allowed in the hosts ipc namespace$/ },
  { name: 'net.* without a network namespace', edit: (s) => { without('network')(s); s.linux!.sysctl = { 'net.ipv4.ip_forward': '1' }; }, refused: /^berth: linux\.sysctl\.net\.ipv4\.ip_forward: sysctl "net\.ipv4\.ip_forward" not allowed in host network namespace$/ },
  { name: 'user.* without a user namespace', edit: (s) => { s.linux!.sysctl = { 'user.max_user_namespaces': '0' }; }, refused: /^berth: linux\.sysctl\.user\.max_user_namespaces: setting ucounts without a user namespace not allowed/ },
  { name: 'IPC, mqueue, net and domainname sysctls in the container\'s own namespaces', edit: (s) => {
    s.linux!.sysctl = { 'kernel.shmmni': '1000', 'fs.mqueue.msg_max': '20', 'net.ipv4.ip_forward': '1', 'kernel.domainname': 'berth.test' };
    s.process!.args = ['/bin/sh', '-c', 'cat /proc/sys/kernel/shmmni /proc/sys/fs/mqueue/msg_max /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/domainname'];
  }, output: /^1000\n20\n1\nberth\.test\n$/ },
  // defect 4: ids
  { name: 'uid 4294967295 ((uid_t)-1: setresuid leaves root)', edit: (s) => { s.process!.user.uid = 4294967295; }, refused: /^berth: process\.user\.uid: uids and gids must be in range 0-2147483647, got 4294967295$/ },
  { name: 'gid 4294967295', edit: (s) => { s.process!.user.gid = 4294967295; }, refused: /^berth: process\.user\.gid: uids and gids must be in range 0-2147483647, got 4294967295$/ },
  { name: 'uid 2147483648', edit: (s) => { s.process!.user.uid = 2147483648; }, refused: /^berth: process\.user\.uid: uids and gids must be in range 0-2147483647, got 2147483648$/ },
  { name: 'additional gid 4294967295', edit: (s) => { s.process!.user.additionalGids = [4294967295]; }, refused: /^berth: process\.user\.additionalGids\[0\]: uids and gids must be in range 0-2147483647/ },
  { name: 'a uid mapping to host id 4294967295', edit: userns([{ containerID: 0, hostID: 4294967295, size: 1 }]), refused: /^berth: linux\.uidMappings\[0\]: hostID 4294967295 \+ size 1 reaches 4294967295/ },
  { name: 'a uid mapping from container id 4294967295', edit: userns([{ containerID: 0, hostID: 0, size: 1 }, { containerID: 4294967295, hostID: 1000, size: 1 }]), refused: /^berth: linux\.uidMappings\[1\]: containerID 4294967295 \+ size 1 reaches 4294967295/ },
  { name: 'a mapping to a host id above 2^31 (the kernel and runc accept it)', edit: (s) => { userns([{ containerID: 0, hostID: 0, size: 1 }, { containerID: 1000, hostID: 2147483648, size: 1 }])(s); s.process!.user.uid = 1000; }, output: /uid=1000 gid=0/ },
  // defect 5: types and NUL bytes
  { name: 'maskedPaths as a string (was ignored: /proc/keys readable)', edit: (s) => { set(s.linux!, 'maskedPaths', '/proc/keys'); s.process!.args = ['/bin/cat', '/proc/keys']; }, refused: /^berth: linux\.maskedPaths: expected array, got string$/ },
  { name: 'a number where a string is expected', edit: (s) => { set(s.linux!, 'sysctl', { 'kernel.shmmni': 100 }); }, refused: /^berth: linux\.sysctl\.kernel\.shmmni: expected string, got number$/ },
  { name: 'a string where a uid is expected', edit: (s) => { set(s.process!, 'user', { uid: '0', gid: 0 }); }, refused: /^berth: process\.user\.uid: expected uint32, got string$/ },
  { name: 'a boolean as a string', edit: (s) => { set(s.process!, 'noNewPrivileges', 'true'); }, refused: /^berth: process\.noNewPrivileges: expected boolean, got string$/ },
  { name: 'rlimits as an object', edit: (s) => { set(s.process!, 'rlimits', { type: 'RLIMIT_NOFILE', soft: 1, hard: 1 }); }, refused: /^berth: process\.rlimits: expected array, got object$/ },
  { name: 'null root', edit: (s) => { set(s, 'root', null); }, refused: /^berth: root\.path: missing$/ },
  { name: 'null process', edit: (s) => { set(s, 'process', null); }, refused: /^berth: process: missing/ },
  { name: 'a null namespace', edit: (s) => { (s.linux!.namespaces as unknown[]).push(null); }, refused: /^berth: linux\.namespaces\[5\]: expected object, got null$/ },
  { name: 'a NUL byte in a mount destination (was mounted at /tmp/a)', edit: (s) => { s.mounts!.push({ destination: '/tmp/a\0b', type: 'tmpfs', source: 'tmpfs' }); }, refused: /^berth: mounts\[7\]\.destination: contains a NUL byte$/ },
  { name: 'a NUL byte in args', edit: (s) => { s.process!.args = ['/bin/sh\0x', '-c', 'id']; }, refused: /^berth: process\.args\[0\]: contains a NUL byte$/ },
  { name: 'a NUL byte in env', edit: (s) => { s.process!.env = ['A=b\0c']; }, refused: /^berth: process\.env\[0\]: contains a NUL byte$/ },
  { name: 'a NUL byte in the hostname', edit: (s) => { s.hostname = 'ab\0cd'; }, refused: /^berth: hostname: contains a NUL byte$/,
    differs: 'runc hands the bytes to sethostname(2) and the container\'s hostname silently becomes "ab"; issue 16 asks for no silent truncation' },
  { name: 'null in optional fields is Go\'s zero value, as runc reads it', edit: (s) => {
    for (const k of ['rlimits', 'oomScoreAdj', 'user', 'consoleSize']) set(s.process!, k, null);
    for (const k of ['resources', 'seccomp']) set(s.linux!, k, null);
    set(s, 'hooks', null);
  }, output: /uid=0\(root\) gid=0\(root\)/ },
];

function runc(args: string[]): Promise<RunResult> {
  return command(RUNC!, args);
}

for (const c of cases) {
  t.test(c.name, async (t) => {
    const rid = uniqueId('sec-spec-runc');
    const bid = uniqueId('sec-spec');
    // one cgroup below the test's parent: runc removes it when its run ends, before berth's starts
    const b = bundle(['/bin/sh', '-c', PROBE], (s) => { s.linux!.cgroupsPath = `${parent}/${bid}`; c.edit(s); });
    const runcRoot = path.join(b.dir, 'runc-state');
    t.teardown(async () => {
      await runc(['--root', runcRoot, 'delete', '--force', rid]);
      await berth(['--root', b.root, 'delete', '--force', bid]);
      b.cleanup();
    });
    const control = await runc(['--root', runcRoot, 'run', '--bundle', b.dir, rid]);
    const r = await berth(['--root', b.root, 'run', '--bundle', b.dir, bid]);
    const runcRefused = control.code !== 0;
    const berthRefused = r.code !== 0;
    t.comment(`runc: ${runcRefused ? `refused (${control.stderr.trim().split('\n').pop()})` : 'ran'}`);
    if (c.differs) t.equal(runcRefused, c.refused === undefined, `runc's verdict differs, because ${c.differs}`);
    else t.equal(berthRefused, runcRefused, `berth ${berthRefused ? 'refused' : 'ran'} as runc ${runcRefused ? 'refused' : 'ran'}: berth said ${JSON.stringify(r.stderr + r.stdout)}`);
    if (c.refused) {
      t.not(r.code, 0, `berth refuses (it ran: ${JSON.stringify(r.stdout)})`);
      t.equal(r.stderr.split('\n').filter(Boolean).length, 1, `one line: ${r.stderr}`);
      t.match(r.stderr.trim(), c.refused);
      t.equal(r.stdout, '', 'nothing of the program ran');
      t.same(leftovers(b.root, bid), [], 'nothing left behind');
    } else {
      t.equal(r.code, 0, `berth runs it: ${r.stderr}`);
      t.equal(r.stdout, control.stdout, 'the process sees what it sees under runc: capability sets, ids, /proc/sys');
      if (c.output) t.match(r.stdout, c.output);
    }
    t.equal(fs.readFileSync(HOST_SYSCTL, 'utf8').trim(), hostBurst, `the host's ${HOST_SYSCTL} is unchanged`);
  });
}

t.test('the host\'s kernel.* sysctls are read back unchanged, and runc is the runc the control claims', async (t) => {
  t.equal(fs.readFileSync(HOST_SYSCTL, 'utf8').trim(), hostBurst);
  t.match(execFileSync(RUNC, ['--version'], { encoding: 'utf8' }), /^runc version/);
});
