import t from 'tap';
import { compileSeccomp } from '../../lib/runtime/seccomp';
import type { LinuxSeccomp, LinuxSeccompArg } from '../../lib/runtime/spec/types';
import {
  AUDIT_ARCH_AARCH64, AUDIT_ARCH_I386, AUDIT_ARCH_X86_64, RET_ALLOW, RET_ERRNO, RET_KILL_PROCESS, RET_KILL_THREAD,
  RET_LOG, RET_TRACE, RET_TRAP, runFilter, SeccompData,
} from './seccomp-interp';

// x86_64 numbers from arch/x86/entry/syscalls/syscall_64.tbl, written out so the table is tested too.
const NR = { read: 0, write: 1, socket: 41, getpid: 39, mkdir: 83, personality: 135, kill: 62, ptrace: 101 };
const X32_BIT = 0x40000000;

const run = (p: LinuxSeccomp, d: Partial<SeccompData> & { nr: number }, arch = 'SCMP_ARCH_X86_64'): number =>
  runFilter(compileSeccomp(p, 'linux.seccomp', { nativeArch: arch }).filter, { arch: AUDIT_ARCH_X86_64, ...d });

t.test('the default action applies to calls no rule names', async (t) => {
  for (const [name, ret] of [
    ['SCMP_ACT_ALLOW', RET_ALLOW], ['SCMP_ACT_KILL', RET_KILL_THREAD], ['SCMP_ACT_KILL_THREAD', RET_KILL_THREAD],
    ['SCMP_ACT_KILL_PROCESS', RET_KILL_PROCESS], ['SCMP_ACT_TRAP', RET_TRAP], ['SCMP_ACT_LOG', RET_LOG],
    ['SCMP_ACT_ERRNO', RET_ERRNO(1)], ['SCMP_ACT_TRACE', RET_TRACE(1)],
  ] as const) {
    // mkdirat (258) is named so that mkdir (83) is below the ENOSYS stub's limit.
    const p: LinuxSeccomp = { defaultAction: name, syscalls: [{ names: ['mkdirat'], action: name === 'SCMP_ACT_ALLOW' ? 'SCMP_ACT_LOG' : 'SCMP_ACT_ALLOW' }] };
    t.equal(run(p, { nr: NR.mkdir }), ret, `${name} for mkdir`);
  }
  t.equal(run({ defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: 38 }, { nr: NR.mkdir }), RET_ERRNO(38), 'defaultErrnoRet');
});

t.test('calls above the largest the profile names get ENOSYS, as with runc\'s stub', async (t) => {
  const p = (defaultAction: string, defaultErrnoRet?: number): LinuxSeccomp =>
    ({ defaultAction, defaultErrnoRet, architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'], syscalls: [{ names: ['getpid', 'uname'], action: 'SCMP_ACT_LOG' }, { names: ['mkdir'], action: defaultAction, errnoRet: defaultErrnoRet }] });
  // x86_64: largest named is mkdir (83, even though that rule repeats the default); x86: uname is 122.
  t.equal(run(p('SCMP_ACT_ERRNO'), { nr: 84 }), RET_ERRNO(38), 'rmdir, newer than anything named');
  t.equal(run(p('SCMP_ACT_ERRNO'), { nr: 83 }), RET_ERRNO(1), 'mkdir itself gets the default');
  t.equal(run(p('SCMP_ACT_ERRNO'), { nr: 40 }), RET_ERRNO(1), 'an older unnamed call gets the default');
  t.equal(run(p('SCMP_ACT_ERRNO'), { nr: 39 }), RET_LOG);
  t.equal(run(p('SCMP_ACT_ERRNO'), { nr: 123, arch: AUDIT_ARCH_I386 }), RET_ERRNO(38), 'per arch: i386 above uname');
  t.equal(run(p('SCMP_ACT_ERRNO'), { nr: 121, arch: AUDIT_ARCH_I386 }), RET_ERRNO(1));
  t.equal(run(p('SCMP_ACT_ERRNO'), { nr: X32_BIT | 84 }), RET_ERRNO(38), 'x32 too');
  t.equal(run(p('SCMP_ACT_KILL_PROCESS'), { nr: 300 }), RET_ERRNO(38), 'also in front of kill');
  t.equal(run(p('SCMP_ACT_ALLOW'), { nr: 300 }), RET_ALLOW, 'not when the default allows');
  t.equal(run(p('SCMP_ACT_TRACE'), { nr: 300 }), RET_TRACE(1), 'not for a tracer');
  t.equal(run(p('SCMP_ACT_ERRNO', 95), { nr: 300 }), RET_ERRNO(38), 'a custom defaultErrnoRet still gets the stub');
  t.equal(run(p('SCMP_ACT_ERRNO', 95), { nr: 40 }), RET_ERRNO(95));
  t.equal(run(p('SCMP_ACT_ERRNO', 38), { nr: 40 }), RET_ERRNO(38), 'a default of ENOSYS needs no stub');
  t.equal(run({ defaultAction: 'SCMP_ACT_ERRNO' }, { nr: 300 }), RET_ERRNO(1), 'nothing named, no stub');
});

t.test('named rules: allow, errno with a custom errnoRet, trace, kill', async (t) => {
  const p: LinuxSeccomp = {
    defaultAction: 'SCMP_ACT_ERRNO',
    syscalls: [
      { names: ['read', 'write'], action: 'SCMP_ACT_ALLOW' },
      { names: ['mkdir'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 },
      { names: ['ptrace'], action: 'SCMP_ACT_TRACE', errnoRet: 7 },
      { names: ['kill'], action: 'SCMP_ACT_KILL_PROCESS' },
    ],
  };
  t.equal(run(p, { nr: NR.read }), RET_ALLOW);
  t.equal(run(p, { nr: NR.write }), RET_ALLOW);
  t.equal(run(p, { nr: NR.mkdir }), RET_ERRNO(13));
  t.equal(run(p, { nr: NR.ptrace }), RET_TRACE(7));
  t.equal(run(p, { nr: NR.kill }), RET_KILL_PROCESS);
  t.equal(run(p, { nr: NR.getpid }), RET_ERRNO(1), 'unlisted gets EPERM, the spec default');
});

// Values straddling 2^32 so that a compiler that only looked at the low word would get them wrong.
const BIG = 0x1_0000_0005;
const cases: [LinuxSeccompArg['op'], bigint, boolean][] = [
  ['SCMP_CMP_EQ', 0x1_0000_0005n, true], ['SCMP_CMP_EQ', 0x5n, false], ['SCMP_CMP_EQ', 0x2_0000_0005n, false],
  ['SCMP_CMP_NE', 0x1_0000_0005n, false], ['SCMP_CMP_NE', 0x5n, true], ['SCMP_CMP_NE', 0x1_0000_0006n, true],
  ['SCMP_CMP_GT', 0x1_0000_0006n, true], ['SCMP_CMP_GT', 0x1_0000_0005n, false], ['SCMP_CMP_GT', 0x2_0000_0000n, true],
  ['SCMP_CMP_GT', 0xffff_ffffn, false], ['SCMP_CMP_GT', 0x1_0000_0004n, false],
  ['SCMP_CMP_GE', 0x1_0000_0005n, true], ['SCMP_CMP_GE', 0x1_0000_0004n, false], ['SCMP_CMP_GE', 0x2_0000_0000n, true],
  ['SCMP_CMP_GE', 0x6n, false],
  ['SCMP_CMP_LT', 0x1_0000_0004n, true], ['SCMP_CMP_LT', 0x1_0000_0005n, false], ['SCMP_CMP_LT', 0xffff_ffffn, true],
  ['SCMP_CMP_LT', 0x2_0000_0000n, false], ['SCMP_CMP_LT', 0x1_0000_0006n, false],
  ['SCMP_CMP_LE', 0x1_0000_0005n, true], ['SCMP_CMP_LE', 0x1_0000_0006n, false], ['SCMP_CMP_LE', 0x6n, true],
  ['SCMP_CMP_LE', 0x2_0000_0004n, false], ['SCMP_CMP_LE', 0xffff_ffff_ffff_ffffn, false],
];

t.test('each comparison operator on 64-bit arguments above 2^32', async (t) => {
  for (const [op, arg, match] of cases) {
    const p: LinuxSeccomp = { defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['write'], action: 'SCMP_ACT_ALLOW', args: [{ index: 2, op, value: BIG }] }] };
    const ret = run(p, { nr: NR.write, args: [0, 0, arg] });
    t.equal(ret, match ? RET_ALLOW : RET_ERRNO(1), `${op} 0x${BIG.toString(16)} with arg 0x${arg.toString(16)}`);
  }
});

t.test('masked equality compares (arg & value) with valueTwo on both words', async (t) => {
  // mask 0xff00000000_000000ff, datum 0x4200000000_00000011
  const p: LinuxSeccomp = {
    defaultAction: 'SCMP_ACT_ALLOW',
    syscalls: [{ names: ['socket'], action: 'SCMP_ACT_ERRNO', errnoRet: 97, args: [{ index: 0, op: 'SCMP_CMP_MASKED_EQ', value: 0xff_0000_00ff, valueTwo: 0x42_0000_0011 }] }],
  };
  t.equal(run(p, { nr: NR.socket, args: [0x42_1234_5611n] }), RET_ERRNO(97), 'bits outside the mask do not matter');
  t.equal(run(p, { nr: NR.socket, args: [0x43_0000_0011n] }), RET_ALLOW, 'high word differs under the mask');
  t.equal(run(p, { nr: NR.socket, args: [0x42_0000_0012n] }), RET_ALLOW, 'low word differs under the mask');
  const zero: LinuxSeccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['socket'], action: 'SCMP_ACT_KILL', args: [{ index: 1, op: 'SCMP_CMP_MASKED_EQ', value: 0x80000 }] }] };
  t.equal(run(zero, { nr: NR.socket, args: [0, 0x1] }), RET_KILL_THREAD, 'valueTwo defaults to 0');
  t.equal(run(zero, { nr: NR.socket, args: [0, 0x80001] }), RET_ALLOW);
});

t.test('the args of one rule are ANDed', async (t) => {
  const p: LinuxSeccomp = {
    defaultAction: 'SCMP_ACT_ERRNO',
    syscalls: [{ names: ['kill'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, op: 'SCMP_CMP_EQ', value: 1 }, { index: 1, op: 'SCMP_CMP_EQ', value: 15 }, { index: 5, op: 'SCMP_CMP_GE', value: 2 ** 40 }] }],
  };
  t.equal(run(p, { nr: NR.kill, args: [1, 15, 0, 0, 0, 2n ** 40n] }), RET_ALLOW);
  t.equal(run(p, { nr: NR.kill, args: [2, 15, 0, 0, 0, 2n ** 40n] }), RET_ERRNO(1), 'first arg fails');
  t.equal(run(p, { nr: NR.kill, args: [1, 9, 0, 0, 0, 2n ** 40n] }), RET_ERRNO(1), 'second arg fails');
  t.equal(run(p, { nr: NR.kill, args: [1, 15, 0, 0, 0, 2n ** 39n] }), RET_ERRNO(1), 'sixth arg fails');
});

t.test('rules for the same call are ORed in order; an unconditional rule wins', async (t) => {
  const personality = (value: number, action = 'SCMP_ACT_ALLOW', errnoRet?: number) =>
    ({ names: ['personality'], action, errnoRet, args: [{ index: 0, op: 'SCMP_CMP_EQ' as const, value }] });
  const p: LinuxSeccomp = { defaultAction: 'SCMP_ACT_ERRNO', syscalls: [personality(0), personality(8), personality(0x20000, 'SCMP_ACT_ERRNO', 22), personality(0xffffffff)] };
  t.equal(run(p, { nr: NR.personality, args: [0] }), RET_ALLOW);
  t.equal(run(p, { nr: NR.personality, args: [8] }), RET_ALLOW);
  t.equal(run(p, { nr: NR.personality, args: [0x20000] }), RET_ERRNO(22));
  t.equal(run(p, { nr: NR.personality, args: [0xffffffff] }), RET_ALLOW);
  t.equal(run(p, { nr: NR.personality, args: [4] }), RET_ERRNO(1), 'no rule matches');
  // The first matching conditional rule decides.
  const overlap: LinuxSeccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [personality(5, 'SCMP_ACT_ERRNO', 11), personality(5, 'SCMP_ACT_ERRNO', 12)] };
  t.equal(run(overlap, { nr: NR.personality, args: [5] }), RET_ERRNO(11));
  // libseccomp: an unconditional rule replaces the conditional ones for that call, in either order.
  const uncond: LinuxSeccomp = { defaultAction: 'SCMP_ACT_ERRNO', syscalls: [personality(5, 'SCMP_ACT_TRAP'), { names: ['personality'], action: 'SCMP_ACT_ALLOW' }] };
  t.equal(run(uncond, { nr: NR.personality, args: [5] }), RET_ALLOW);
  t.equal(run(uncond, { nr: NR.personality, args: [6] }), RET_ALLOW);
});

t.test('rules with the default action are dropped, as runc does', async (t) => {
  const p: LinuxSeccomp = {
    defaultAction: 'SCMP_ACT_ERRNO',
    syscalls: [
      { names: ['personality'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, op: 'SCMP_CMP_LE', value: 10 }] },
      { names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, op: 'SCMP_CMP_EQ', value: 8 }] },
    ],
  };
  t.equal(run(p, { nr: NR.personality, args: [8] }), RET_ALLOW);
  t.equal(run(p, { nr: NR.personality, args: [9] }), RET_ERRNO(1));
});

t.test('a call from an architecture not in the filter gets the bad-arch action (kill thread)', async (t) => {
  const p: LinuxSeccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }] };
  t.equal(run(p, { nr: NR.getpid }), RET_ALLOW, 'native arch works');
  t.equal(run(p, { nr: 20, arch: AUDIT_ARCH_I386 }), RET_KILL_THREAD, 'i386 not listed');
  t.equal(run(p, { nr: 172, arch: AUDIT_ARCH_AARCH64 }), RET_KILL_THREAD, 'aarch64 not listed');
});

t.test('x32 numbers on an x86_64-only filter are rejected like a wrong arch', async (t) => {
  const p: LinuxSeccomp = { defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64'] };
  t.equal(run(p, { nr: NR.getpid }), RET_ALLOW);
  t.equal(run(p, { nr: X32_BIT | NR.getpid }), RET_KILL_THREAD);
  // libseccomp lets -1 through: tracers set it to skip a call and the filter runs again afterwards.
  t.equal(run({ ...p, defaultAction: 'SCMP_ACT_ERRNO' }, { nr: -1 }), RET_ERRNO(1), 'nr -1 gets the default action');
  t.equal(run(p, { nr: -2 }), RET_KILL_THREAD, 'but -2 is in the x32 range');
});

t.test('x86, x32 and aarch64 sections use their own numbers', async (t) => {
  const p: LinuxSeccomp = {
    defaultAction: 'SCMP_ACT_ALLOW',
    architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32', 'SCMP_ARCH_AARCH64'],
    syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 30 }],
  };
  t.equal(run(p, { nr: 83 }), RET_ERRNO(30), 'x86_64 mkdir');
  t.equal(run(p, { nr: 258 }), RET_ERRNO(30), 'x86_64 mkdirat');
  t.equal(run(p, { nr: 39 }), RET_ALLOW, 'x86_64 getpid');
  t.equal(run(p, { nr: 39, arch: AUDIT_ARCH_I386 }), RET_ERRNO(30), 'i386 mkdir is 39');
  t.equal(run(p, { nr: 296, arch: AUDIT_ARCH_I386 }), RET_ERRNO(30), 'i386 mkdirat');
  t.equal(run(p, { nr: 83, arch: AUDIT_ARCH_I386 }), RET_ALLOW, 'i386 83 is not mkdir');
  t.equal(run(p, { nr: X32_BIT | 83 }), RET_ERRNO(30), 'x32 mkdir');
  t.equal(run(p, { nr: X32_BIT | 39 }), RET_ALLOW, 'x32 getpid');
  t.equal(run(p, { nr: 34, arch: AUDIT_ARCH_AARCH64 }), RET_ERRNO(30), 'aarch64 mkdirat');
  t.equal(run(p, { nr: 83, arch: AUDIT_ARCH_AARCH64 }), RET_ALLOW, 'aarch64 83 is fdatasync');
});

t.test('32-bit arches compare only the low word of an argument', async (t) => {
  const p: LinuxSeccomp = {
    defaultAction: 'SCMP_ACT_ALLOW',
    architectures: ['SCMP_ARCH_X86'],
    syscalls: [{ names: ['kill'], action: 'SCMP_ACT_ERRNO', args: [{ index: 1, op: 'SCMP_CMP_EQ', value: 9 }] }],
  };
  t.equal(run(p, { nr: 37, arch: AUDIT_ARCH_I386, args: [1, 9] }), RET_ERRNO(1), 'i386 kill');
  t.equal(run(p, { nr: 37, arch: AUDIT_ARCH_I386, args: [1, 15] }), RET_ALLOW);
  t.equal(run(p, { nr: NR.kill, args: [1, 0x1_0000_0009n] }), RET_ALLOW, 'x86_64 still compares the high word');
});

t.test('an aarch64 machine filters its own numbers natively', async (t) => {
  const p: LinuxSeccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['getpid'], action: 'SCMP_ACT_ERRNO', errnoRet: 5 }] };
  const f = compileSeccomp(p, 'linux.seccomp', { nativeArch: 'SCMP_ARCH_AARCH64' }).filter;
  t.equal(runFilter(f, { nr: 172, arch: AUDIT_ARCH_AARCH64 }), RET_ERRNO(5));
  t.equal(runFilter(f, { nr: 39, arch: AUDIT_ARCH_X86_64 }), RET_KILL_THREAD);
});

t.test('flags are ORed into the seccomp(2) flags', async (t) => {
  const c = compileSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', flags: ['SECCOMP_FILTER_FLAG_TSYNC', 'SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW'] });
  t.equal(c.flags, 1 | 2 | 4);
  t.equal(compileSeccomp({ defaultAction: 'SCMP_ACT_ALLOW' }).flags, 0);
  const w = compileSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', flags: ['SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'] });
  t.equal(w.flags, 0, 'WAIT_KILLABLE_RECV needs a listener, so it is dropped');
  t.match(w.warnings.join('\n'), /linux\.seccomp\.flags: SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV ignored/);
});

t.test('the filter is struct sock_filter[] in 8-byte little-endian records', async (t) => {
  const f = compileSeccomp({ defaultAction: 'SCMP_ACT_ALLOW' }).filter;
  t.equal(f.length % 8, 0);
  // It must start by loading seccomp_data.arch (offset 4): BPF_LD|BPF_W|BPF_ABS = 0x20.
  t.same([f.readUInt16LE(0), f.readUInt8(2), f.readUInt8(3), f.readUInt32LE(4)], [0x20, 0, 0, 4]);
  // And end with a ret (BPF_RET|BPF_K = 0x06), which the kernel insists on.
  t.equal(f.readUInt16LE(f.length - 8), 0x06);
});
