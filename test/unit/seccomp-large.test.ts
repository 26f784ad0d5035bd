import t from 'tap';
import { compileSeccomp } from '../../lib/runtime/seccomp';
import { Assembler } from '../../lib/runtime/seccomp/bpf';
import type { LinuxSeccomp, LinuxSyscall } from '../../lib/runtime/spec/types';
import { SYSCALLS_X86 } from '../../lib/runtime/tables/syscalls-x86';
import { SYSCALLS_X86_64 } from '../../lib/runtime/tables/syscalls-x86_64';
import { AUDIT_ARCH_I386, AUDIT_ARCH_X86_64, RET_ALLOW, RET_ERRNO, RET_KILL_THREAD, runFilter, runFilterDetailed } from './seccomp-interp';

// Calls a container must not make, as in docker's default profile; everything else is allowed.
const DENIED = ['mkdir', 'mount', 'umount2', 'kexec_load', 'init_module', 'reboot', 'swapon', 'unshare', 'setns', 'bpf', 'personality', 'clone', 'socket'];
const allowed = Object.keys(SYSCALLS_X86_64).filter((n) => !DENIED.includes(n));

/** A profile the size and shape of docker's default: ~370 names in several groups, a few argument rules. */
function dockerSized(): LinuxSeccomp {
  const groups: LinuxSyscall[] = [];
  for (let i = 0; i < allowed.length; i += 60) groups.push({ names: allowed.slice(i, i + 60), action: 'SCMP_ACT_ALLOW' });
  return {
    defaultAction: 'SCMP_ACT_ERRNO',
    defaultErrnoRet: 1,
    architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
    syscalls: [
      ...groups,
      ...[0, 8, 0x20000, 0x20008, 0xffffffff].map((value) => ({ names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value, op: 'SCMP_CMP_EQ' as const }] })),
      // clone without namespace flags (docker's mask is CLONE_NEWNS|CLONE_NEWUTS|...; 0x7e020000)
      { names: ['clone'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 0x7e020000, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }] },
      { names: ['socket'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 40, op: 'SCMP_CMP_NE' }] },
    ],
  };
}

t.test('a docker-sized profile: every listed call allowed, the others get the default', async (t) => {
  t.ok(allowed.length > 350, `${allowed.length} names`);
  const c = compileSeccomp(dockerSized(), 'linux.seccomp', { nativeArch: 'SCMP_ARCH_X86_64' });
  t.ok(c.filter.length / 8 <= 4096, `${c.filter.length / 8} instructions fit the kernel's limit`);
  let wrong = 0;
  let maxSteps = 0;
  for (const name of allowed) {
    const r = runFilterDetailed(c.filter, { nr: SYSCALLS_X86_64[name], arch: AUDIT_ARCH_X86_64 });
    if (r.ret !== RET_ALLOW) wrong++;
    maxSteps = Math.max(maxSteps, r.steps);
  }
  t.equal(wrong, 0, 'no listed x86_64 call is refused');
  t.ok(maxSteps < 40, `the binary search keeps every call short (${maxSteps} steps at most)`);
  for (const name of DENIED) {
    const ret = runFilter(c.filter, { nr: SYSCALLS_X86_64[name], arch: AUDIT_ARCH_X86_64 });
    if (name === 'personality' || name === 'clone' || name === 'socket') continue; // argument rules, below
    t.equal(ret, RET_ERRNO(1), `${name} gets EPERM`);
  }
  // Independent numbers (syscall_64.tbl / syscall_32.tbl) so the test does not only trust the tables.
  t.equal(runFilter(c.filter, { nr: 83, arch: AUDIT_ARCH_X86_64 }), RET_ERRNO(1), 'x86_64 mkdir');
  t.equal(runFilter(c.filter, { nr: 84, arch: AUDIT_ARCH_X86_64 }), RET_ALLOW, 'x86_64 rmdir');
  t.equal(runFilter(c.filter, { nr: 39, arch: AUDIT_ARCH_I386 }), RET_ERRNO(1), 'i386 mkdir');
  t.equal(runFilter(c.filter, { nr: 40, arch: AUDIT_ARCH_I386 }), RET_ALLOW, 'i386 rmdir');
  t.equal(runFilter(c.filter, { nr: 0x40000000 + 83, arch: AUDIT_ARCH_X86_64 }), RET_ERRNO(1), 'x32 mkdir');
  t.equal(runFilter(c.filter, { nr: 0x40000000 + 84, arch: AUDIT_ARCH_X86_64 }), RET_ALLOW, 'x32 rmdir');
  t.equal(runFilter(c.filter, { nr: 1000, arch: AUDIT_ARCH_X86_64 }), RET_ERRNO(38), 'a number above every named call: ENOSYS');
  // The argument rules still work inside the big filter.
  t.equal(runFilter(c.filter, { nr: 135, arch: AUDIT_ARCH_X86_64, args: [8] }), RET_ALLOW, 'personality(PER_LINUX32)');
  t.equal(runFilter(c.filter, { nr: 135, arch: AUDIT_ARCH_X86_64, args: [9] }), RET_ERRNO(1));
  t.equal(runFilter(c.filter, { nr: 56, arch: AUDIT_ARCH_X86_64, args: [0x11] }), RET_ALLOW, 'clone without namespaces');
  t.equal(runFilter(c.filter, { nr: 56, arch: AUDIT_ARCH_X86_64, args: [0x10000000] }), RET_ERRNO(1), 'clone(CLONE_NEWUSER)');
  t.equal(runFilter(c.filter, { nr: 41, arch: AUDIT_ARCH_X86_64, args: [2] }), RET_ALLOW, 'socket(AF_INET)');
  t.equal(runFilter(c.filter, { nr: 41, arch: AUDIT_ARCH_X86_64, args: [40] }), RET_ERRNO(1), 'socket(AF_VSOCK)');
  // i386 too: every x86 name the profile lists resolves there.
  const i386Wrong = allowed.filter((n) => n in SYSCALLS_X86 && runFilter(c.filter, { nr: SYSCALLS_X86[n], arch: AUDIT_ARCH_I386 }) !== RET_ALLOW);
  t.same(i386Wrong, [], 'no listed i386 call is refused');
});

t.test('a call with hundreds of argument rules needs jumps longer than 255 and still works', async (t) => {
  const rules: LinuxSyscall[] = [];
  for (let v = 0; v < 150; v++) rules.push({ names: ['kill'], action: 'SCMP_ACT_ERRNO', errnoRet: v + 1, args: [{ index: 1, value: v * 1000 + 2 ** 33, op: 'SCMP_CMP_EQ' }] });
  rules.push({ names: ['getpid'], action: 'SCMP_ACT_ERRNO', errnoRet: 999 });
  const c = compileSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: rules }, 'linux.seccomp', { nativeArch: 'SCMP_ARCH_X86_64' });
  t.ok(c.filter.length / 8 > 600, 'the block is long');
  for (const v of [0, 1, 77, 149]) {
    t.equal(runFilter(c.filter, { nr: 62, arch: AUDIT_ARCH_X86_64, args: [0, BigInt(v * 1000) + 2n ** 33n] }), RET_ERRNO(v + 1), `value #${v}`);
  }
  t.equal(runFilter(c.filter, { nr: 62, arch: AUDIT_ARCH_X86_64, args: [0, 5] }), RET_ALLOW, 'no rule matches');
  t.equal(runFilter(c.filter, { nr: 39, arch: AUDIT_ARCH_X86_64 }), RET_ERRNO(999), 'the call after the long block');
});

t.test('the assembler routes far conditional jumps through trampolines', async (t) => {
  const asm = new Assembler();
  const far = asm.label('far');
  asm.load(0);
  asm.jump('jeq', 7, far, 'next'); // true branch must skip 300 instructions
  for (let i = 0; i < 300; i++) asm.ret(i);
  asm.bind(far);
  asm.ret(0xabcd);
  const prog = asm.assemble();
  t.equal(prog.length / 8, 1 + 2 + 300 + 1, 'one ja trampoline added');
  t.equal(runFilter(prog, { nr: 7, arch: 0 }), 0xabcd, 'true branch reaches the far label');
  t.equal(runFilter(prog, { nr: 8, arch: 0 }), 0, 'false branch falls through');
  t.throws(() => {
    const a = new Assembler();
    a.ja(a.label('nowhere'));
    a.assemble();
  }, /never bound/);
});

t.test('a filter over the kernel limit is refused with a clear error', async (t) => {
  const rules: LinuxSyscall[] = [];
  for (let v = 0; v < 1000; v++) rules.push({ names: ['kill'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: v, op: 'SCMP_CMP_EQ' }] });
  t.throws(() => compileSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: rules }, 'linux.seccomp', { nativeArch: 'SCMP_ARCH_X86_64' }),
    { name: 'ConfigError', message: /^linux\.seccomp: the compiled filter has \d+ instructions; the kernel accepts at most 4096$/ });
});

t.test('an empty profile still checks the arch', async (t) => {
  const c = compileSeccomp({ defaultAction: 'SCMP_ACT_ALLOW' }, 'linux.seccomp', { nativeArch: 'SCMP_ARCH_X86_64' });
  t.equal(runFilter(c.filter, { nr: 1, arch: AUDIT_ARCH_X86_64 }), RET_ALLOW);
  t.equal(runFilter(c.filter, { nr: 1, arch: AUDIT_ARCH_I386 }), RET_KILL_THREAD);
});
