// A strict seccomp allow-list (defaultAction SCMP_ACT_ERRNO, only the calls busybox `sh -c 'echo ok'` makes)
// must not stop the container: the bootstrap loads the filter last and then calls only what
// native/src/bootstrap_process.c (exec_program) lists: with noNewPrivileges, the exec alone; without it,
// one capset first (loading a filter takes CAP_SYS_ADMIN, dropped right after), which the profile must
// then allow. runc runs the same bundles as the control.
import t from 'tap';
import * as path from 'node:path';
import { uniqueId } from '../helpers/bundle';
import { berth, bundle } from '../helpers/run';
import { requireRunc, runcRun } from '../helpers/runc-sync';
import type { LinuxSeccomp } from '../../lib/runtime/spec/types';

requireRunc();

// `strace -f busybox sh -c 'echo ok'` (Debian's busybox-static), as root and as uid 1000 in a container.
const BUSYBOX_ECHO = [
  'arch_prctl', 'brk', 'execve', 'exit_group', 'getpid', 'getppid', 'getrandom', 'getuid', 'mprotect', 'newfstatat',
  'prctl', 'prlimit64', 'readlink', 'rseq', 'rt_sigaction', 'set_robust_list', 'set_tid_address', 'uname', 'write',
];
/** What berth documents after its filter without noNewPrivileges (the exec shim's execveat it allows itself). */
const BERTH_AFTER_FILTER_WITHOUT_NNP = ['capset'];
// What runc 1.1 calls after its filter (found by tracing it on these bundles: it closes descriptors by
// reading /proc/self/fd, opens the exec fifo, changes uid, groups and capabilities, and its Go runtime
// needs a few calls of its own), so that runc can run at all.
const RUNC_AFTER_FILTER = [
  'capget', 'capset', 'chdir', 'close', 'epoll_ctl', 'epoll_pwait', 'fchown', 'fcntl', 'fstat', 'fstatfs', 'futex',
  'getcwd', 'getdents64', 'gettid', 'madvise', 'mmap', 'munmap', 'nanosleep', 'openat', 'read', 'rt_sigprocmask',
  'rt_sigreturn', 'sched_yield', 'setgid', 'setgroups', 'setuid', 'sigaltstack', 'tgkill',
];

const profile = (names: string[]): LinuxSeccomp => ({
  defaultAction: 'SCMP_ACT_ERRNO',
  architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
  syscalls: [{ names, action: 'SCMP_ACT_ALLOW' }],
});

for (const noNewPrivileges of [true, false]) {
  for (const uid of [0, 1000]) {
    const name = `noNewPrivileges ${noNewPrivileges}, uid ${uid}`;
    const strict = [...BUSYBOX_ECHO, ...(noNewPrivileges ? [] : BERTH_AFTER_FILTER_WITHOUT_NNP)];
    const make = (names: string[]) => bundle(['/bin/sh', '-c', 'echo ok'], (s) => {
      s.process!.noNewPrivileges = noNewPrivileges;
      s.process!.user = { uid, gid: uid };
      s.linux!.seccomp = profile(names);
    });

    t.test(`${name}: berth runs busybox under the strict allow-list`, async (t) => {
      const b = make(strict);
      t.teardown(() => b.cleanup());
      const r = await berth(['--root', b.root, 'run', '--bundle', b.dir, uniqueId('sec-exe-strict')]);
      t.equal(r.stderr, '', 'no error');
      t.equal(r.stdout, 'ok\n');
      t.equal(r.code, 0);
      // The difference from runc, on purpose: runc 1.1 makes the calls above after its filter, so a
      // profile that allows only the workload's calls stops it; berth's rule is that it must not.
      const rc = runcRun(path.join(b.dir, 'runc'), b.dir, uniqueId('sec-exe-strict-runc'));
      t.not(rc.code, 0, 'runc cannot start under the same profile');
      // which refused call kills runc first depends on its Go runtime's threads: an exec step's EPERM, or a
      // futex wake-up the filter refuses (Go then prints "futexwakeup ... returned -1": -1 is -EPERM)
      t.match(rc.stderr, /operation not permitted|futexwakeup addr=0x[0-9a-f]+ returned -1/, 'runc: a call of its own after the filter was refused');
    });

    t.test(`${name}: with runc's own calls added, runc and berth agree`, async (t) => {
      const b = make([...strict, ...RUNC_AFTER_FILTER]);
      t.teardown(() => b.cleanup());
      const rc = runcRun(path.join(b.dir, 'runc'), b.dir, uniqueId('sec-exe-strict-runc'));
      t.equal(rc.code, 0, rc.stderr);
      t.equal(rc.stdout, 'ok\n', 'runc');
      const r = await berth(['--root', b.root, 'run', '--bundle', b.dir, uniqueId('sec-exe-strict')]);
      t.same({ code: r.code, stdout: r.stdout, stderr: r.stderr }, { code: rc.code, stdout: rc.stdout, stderr: '' }, 'berth as runc');
    });
  }
}

t.test('without noNewPrivileges, a profile that refuses capset says which call it refused', async (t) => {
  const b = bundle(['/bin/sh', '-c', 'echo ok'], (s) => {
    s.process!.noNewPrivileges = false;
    s.process!.user = { uid: 1000, gid: 1000 };
    s.linux!.seccomp = profile(BUSYBOX_ECHO);
  });
  t.teardown(() => b.cleanup());
  const r = await berth(['--root', b.root, 'run', '--bundle', b.dir, uniqueId('sec-exe-strict')]);
  t.not(r.code, 0);
  t.equal(r.stdout, '');
  t.match(r.stderr, /capset after the seccomp filter: Operation not permitted/);
});
