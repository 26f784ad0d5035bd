// The rule berth puts in front of every profile (lib/runtime/seccomp/exec-shim.ts): exactly the
// bootstrap's execveat of its exec shim is allowed; every other call, including other execveat calls,
// gets what the profile says.
import t, { type Test } from 'tap';
import { compileSeccomp } from '../../lib/runtime/seccomp';
import { allowExecShim } from '../../lib/runtime/seccomp/exec-shim';
import type { LinuxSeccomp } from '../../lib/runtime/spec/types';
import { AUDIT_ARCH_AARCH64, AUDIT_ARCH_I386, AUDIT_ARCH_X86_64, RET_ALLOW, RET_ERRNO, runFilter } from './seccomp-interp';

// x86_64 and aarch64 numbers from the kernel's tables, written out so the code's tables are tested too.
const EXECVEAT = { x86_64: 322, aarch64: 281, i386: 358 };
const EXECVE = 59;
const AT_EMPTY_PATH = 0x1000;
const AT_SYMLINK_NOFOLLOW = 0x100;
const SHIM_FD = 23;

const strict: LinuxSeccomp = {
  defaultAction: 'SCMP_ACT_ERRNO',
  architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
  syscalls: [{ names: ['execve', 'write', 'exit_group'], action: 'SCMP_ACT_ALLOW' }],
};
const plain = compileSeccomp(strict, 'linux.seccomp', { nativeArch: 'SCMP_ARCH_X86_64' }).filter;
const filter = allowExecShim(plain, SHIM_FD, 'SCMP_ARCH_X86_64');
const x64 = (nr: number, args: (number | bigint)[] = []) => runFilter(filter, { arch: AUDIT_ARCH_X86_64, nr, args });
/** what the profile alone answers: ENOSYS here, for numbers above the largest it names (runc's stub) */
const profile = (nr: number, args: (number | bigint)[] = [], arch = AUDIT_ARCH_X86_64) => runFilter(plain, { arch, nr, args });
const ENOSYS = 38;
const unchanged = (t: Test, nr: number, args: (number | bigint)[], label: string, arch = AUDIT_ARCH_X86_64) =>
  t.equal(runFilter(filter, { arch, nr, args }), profile(nr, args, arch), label);

t.test('the shim execveat is allowed although the profile does not name execveat', async (t) => {
  t.equal(x64(EXECVEAT.x86_64, [SHIM_FD, 0x7ffd0000, 0x7ffe0000, 0x7fff0000, AT_EMPTY_PATH]), RET_ALLOW);
});

t.test('any other execveat gets the profile\'s answer', async (t) => {
  t.equal(profile(EXECVEAT.x86_64, [SHIM_FD + 1, 0, 0, 0, AT_EMPTY_PATH]), RET_ERRNO(ENOSYS), 'which here is ENOSYS');
  unchanged(t, EXECVEAT.x86_64, [SHIM_FD + 1, 0, 0, 0, AT_EMPTY_PATH], 'another fd');
  unchanged(t, EXECVEAT.x86_64, [SHIM_FD, 0, 0, 0, 0], 'no AT_EMPTY_PATH: a path relative to the fd');
  unchanged(t, EXECVEAT.x86_64, [SHIM_FD, 0, 0, 0, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW], 'other flags too');
  unchanged(t, EXECVEAT.x86_64, [BigInt(SHIM_FD) | (1n << 32n), 0, 0, 0, AT_EMPTY_PATH], 'fd with high bits set');
  unchanged(t, EXECVEAT.x86_64, [SHIM_FD, 0, 0, 0, BigInt(AT_EMPTY_PATH) | (1n << 40n)], 'flags with high bits set');
  unchanged(t, EXECVEAT.i386, [SHIM_FD, 0, 0, 0, AT_EMPTY_PATH], 'i386 execveat', AUDIT_ARCH_I386);
  unchanged(t, EXECVEAT.x86_64 | 0x40000000, [SHIM_FD, 0, 0, 0, AT_EMPTY_PATH], 'x32 number');
});

t.test('the rest of the profile is unchanged', async (t) => {
  t.equal(x64(EXECVE), RET_ALLOW, 'execve');
  t.equal(x64(1), RET_ALLOW, 'write');
  t.equal(x64(83), RET_ERRNO(1), 'mkdir');
  for (const nr of [0, 1, 59, 83, 231, 322, 436]) {
    unchanged(t, nr, [7, 7, 7, 7, 7], `nr ${nr}`);
  }
});

t.test('aarch64 uses its own number', async (t) => {
  const arm = allowExecShim(compileSeccomp({ defaultAction: 'SCMP_ACT_ERRNO' }, 'linux.seccomp', { nativeArch: 'SCMP_ARCH_AARCH64' }).filter, SHIM_FD, 'SCMP_ARCH_AARCH64');
  t.equal(runFilter(arm, { arch: AUDIT_ARCH_AARCH64, nr: EXECVEAT.aarch64, args: [SHIM_FD, 0, 0, 0, AT_EMPTY_PATH] }), RET_ALLOW);
  t.equal(runFilter(arm, { arch: AUDIT_ARCH_AARCH64, nr: EXECVEAT.x86_64, args: [SHIM_FD, 0, 0, 0, AT_EMPTY_PATH] }), RET_ERRNO(1), 'x86_64\'s number is not execveat there');
});

t.test('a filter at the kernel\'s limit is refused with the field named', async (t) => {
  t.throws(() => allowExecShim(Buffer.alloc(4096 * 8, 0x06), SHIM_FD, 'SCMP_ARCH_X86_64'), { message: /linux\.seccomp.*4096/ });
});
