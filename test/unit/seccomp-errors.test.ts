import t from 'tap';
import { compileSeccomp } from '../../lib/runtime/seccomp';
import type { LinuxSeccomp } from '../../lib/runtime/spec/types';
import { ConfigError } from '../../lib/util/errors';
import { AUDIT_ARCH_X86_64, RET_ALLOW, RET_ERRNO, runFilter } from './seccomp-interp';

const compile = (p: unknown, field?: string) => compileSeccomp(p as LinuxSeccomp, field, { nativeArch: 'SCMP_ARCH_X86_64' });
const rule = (extra: object) => ({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['getpid'], action: 'SCMP_ACT_ALLOW' }, { names: ['mkdir'], action: 'SCMP_ACT_ERRNO', ...extra }] });

t.test('unknown system call names are ignored with a warning, like runc', async (t) => {
  const c = compile({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'no_such_call', 'arm_fadvise64_64'], action: 'SCMP_ACT_ERRNO' }] });
  t.equal(c.warnings.length, 2);
  t.match(c.warnings[0], 'linux.seccomp.syscalls[0].names[1]: unknown system call "no_such_call" ignored');
  t.match(c.warnings[1], 'linux.seccomp.syscalls[0].names[2]: unknown system call "arm_fadvise64_64" ignored (not on SCMP_ARCH_X86_64)');
  t.equal(runFilter(c.filter, { nr: 83, arch: AUDIT_ARCH_X86_64 }), RET_ERRNO(1), 'the known name in the same rule still applies');
});

t.test('a name known on one listed arch only is not a warning', async (t) => {
  // arch_prctl exists on x86_64 but not on i386; socketcall on i386 but not on x86_64.
  const c = compile({ defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86'], syscalls: [{ names: ['arch_prctl', 'socketcall'], action: 'SCMP_ACT_ERRNO' }] });
  t.same(c.warnings, []);
});

t.test('a later unconditional rule that disagrees is reported', async (t) => {
  const c = compile({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ALLOW' }, { names: ['mkdir'], action: 'SCMP_ACT_KILL' }] });
  t.equal(runFilter(c.filter, { nr: 83, arch: AUDIT_ARCH_X86_64 }), RET_ALLOW, 'the first one wins');
  t.match(c.warnings.join('\n'), /linux\.seccomp\.syscalls\[1\]: "mkdir" already has SCMP_ACT_ALLOW from linux\.seccomp\.syscalls\[0\]; SCMP_ACT_KILL_THREAD ignored/);
});

t.test('bad actions name the field', async (t) => {
  t.throws(() => compile({ defaultAction: 'SCMP_ACT_FOO' }), { name: 'ConfigError', message: 'linux.seccomp.defaultAction: unknown action "SCMP_ACT_FOO"' });
  t.throws(() => compile({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['a'], action: 'SCMP_ACT_ALLOW' }, { names: ['b'], action: 'SCMP_ACT_ALLOW' }, { names: ['c'], action: 'SCMP_ACT_FOO' }] }),
    { message: 'linux.seccomp.syscalls[2].action: unknown action "SCMP_ACT_FOO"' });
  t.throws(() => compile({}), { message: 'linux.seccomp.defaultAction: is required' });
  t.throws(() => compile({ defaultAction: 'SCMP_ACT_NOTIFY' }), { message: /linux\.seccomp\.defaultAction: SCMP_ACT_NOTIFY .* not supported/ });
  t.throws(() => compile(rule({ action: 'SCMP_ACT_NOTIFY' })), { message: /linux\.seccomp\.syscalls\[1\]\.action: SCMP_ACT_NOTIFY/ });
  t.throws(() => compile({ defaultAction: 'SCMP_ACT_ALLOW', listenerPath: '/run/agent.sock' }), { message: /linux\.seccomp\.listenerPath: .*not supported/ });
});

t.test('errnoRet must be a small integer and only with ERRNO or TRACE', async (t) => {
  t.throws(() => compile(rule({ errnoRet: -1 })), { message: 'linux.seccomp.syscalls[1].errnoRet: must be an integer from 0 to 65535, got -1' });
  t.throws(() => compile(rule({ errnoRet: 1.5 })), { message: /syscalls\[1\]\.errnoRet: must be an integer/ });
  t.throws(() => compile(rule({ errnoRet: 70000 })), { message: /syscalls\[1\]\.errnoRet/ });
  t.throws(() => compile(rule({ action: 'SCMP_ACT_ALLOW', errnoRet: 5 })), { message: 'linux.seccomp.syscalls[1].errnoRet: is only valid with SCMP_ACT_ERRNO or SCMP_ACT_TRACE, not SCMP_ACT_ALLOW' });
  t.throws(() => compile({ defaultAction: 'SCMP_ACT_KILL', defaultErrnoRet: 1 }), { message: /linux\.seccomp\.defaultErrnoRet: is only valid/ });
});

t.test('bad comparison operators and argument fields name the field', async (t) => {
  const withArg = (arg: object) => compile(rule({ args: [{ index: 0, value: 1, op: 'SCMP_CMP_EQ' }, arg] }));
  t.throws(() => withArg({ index: 1, value: 1, op: 'SCMP_CMP_FOO' }), { name: 'ConfigError', message: 'linux.seccomp.syscalls[1].args[1].op: unknown operator "SCMP_CMP_FOO"' });
  t.throws(() => withArg({ index: 6, value: 1, op: 'SCMP_CMP_EQ' }), { message: 'linux.seccomp.syscalls[1].args[1].index: must be an integer from 0 to 5, got 6' });
  t.throws(() => withArg({ index: 1, value: -3, op: 'SCMP_CMP_EQ' }), { message: /syscalls\[1\]\.args\[1\]\.value: must be an unsigned 64-bit integer/ });
  t.throws(() => withArg({ index: 1, value: 1, valueTwo: 'x', op: 'SCMP_CMP_MASKED_EQ' }), { message: /args\[1\]\.valueTwo: must be an unsigned 64-bit integer/ });
  t.throws(() => withArg({ index: 1, value: 2 ** 64, op: 'SCMP_CMP_EQ' }), { message: /args\[1\]\.value/ });
});

t.test('unknown architectures and flags are errors; known arches without a table are warnings', async (t) => {
  t.throws(() => compile({ defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86', 'SCMP_ARCH_Z80'] }),
    { name: 'ConfigError', message: 'linux.seccomp.architectures[1]: unknown architecture "SCMP_ARCH_Z80"' });
  t.throws(() => compile({ defaultAction: 'SCMP_ACT_ALLOW', flags: ['SECCOMP_FILTER_FLAG_TSYNC', 'SECCOMP_FILTER_FLAG_NEW_LISTENER'] }),
    { message: 'linux.seccomp.flags[1]: unknown flag "SECCOMP_FILTER_FLAG_NEW_LISTENER"' });
  const c = compile({ defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_S390X'] });
  t.same(c.warnings, ['linux.seccomp.architectures[1]: no system call table for SCMP_ARCH_S390X; its calls get the bad-arch action (kill)']);
});

t.test('malformed rules name the field, with the caller\'s prefix', async (t) => {
  t.throws(() => compile({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: [], action: 'SCMP_ACT_ALLOW' }] }), { message: 'linux.seccomp.syscalls[0].names: must be a non-empty array of system call names' });
  t.throws(() => compile({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['read', 7], action: 'SCMP_ACT_ALLOW' }] }), { message: 'linux.seccomp.syscalls[0].names[1]: must be a non-empty string' });
  t.throws(() => compile({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: {} }), { message: 'linux.seccomp.syscalls: must be an array' });
  const err = t.throws(() => compile({ defaultAction: 'SCMP_ACT_BAD' }, 'profile')) as unknown;
  t.ok(err instanceof ConfigError);
  t.equal((err as ConfigError).field, 'profile.defaultAction');
});

t.test('features list what compileSeccomp accepts', async (t) => {
  const { seccompFeatures } = await import('../../lib/runtime/seccomp/features');
  const f = seccompFeatures();
  t.ok(f.actions.includes('SCMP_ACT_KILL_PROCESS') && !f.actions.includes('SCMP_ACT_NOTIFY'));
  t.same(f.archs, ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_X32', 'SCMP_ARCH_X86', 'SCMP_ARCH_X86_64']);
  t.equal(f.operators.length, 7);
  // Every listed action, operator, arch and supported flag compiles.
  for (const action of f.actions) t.doesNotThrow(() => compile({ defaultAction: action }), action);
  for (const op of f.operators) t.doesNotThrow(() => compile(rule({ args: [{ index: 0, value: 1, op }] })), op);
  t.doesNotThrow(() => compile({ defaultAction: 'SCMP_ACT_ALLOW', architectures: f.archs, flags: f.knownFlags }));
  t.equal(compile({ defaultAction: 'SCMP_ACT_ALLOW', flags: f.supportedFlags }).warnings.length, 0);
});
