import t from 'tap';
import { SYSCALLS_AARCH64 } from '../../lib/runtime/tables/syscalls-aarch64';
import { SYSCALLS_X32 } from '../../lib/runtime/tables/syscalls-x32';
import { SYSCALLS_X86 } from '../../lib/runtime/tables/syscalls-x86';
import { SYSCALLS_X86_64 } from '../../lib/runtime/tables/syscalls-x86_64';
import { SYSCALLS_UNIFIED } from '../../lib/runtime/tables/syscalls-unified';

const TABLES = { x86_64: SYSCALLS_X86_64, x86: SYSCALLS_X86, x32: SYSCALLS_X32, aarch64: SYSCALLS_AARCH64 };

t.test('known numbers from the kernel\'s syscall tables', async (t) => {
  // arch/x86/entry/syscalls/syscall_64.tbl
  t.same([SYSCALLS_X86_64.read, SYSCALLS_X86_64.execve, SYSCALLS_X86_64.mkdir, SYSCALLS_X86_64.openat, SYSCALLS_X86_64.clone3], [0, 59, 83, 257, 435]);
  t.same([SYSCALLS_X86_64.uretprobe, SYSCALLS_X86_64.fchmodat2, SYSCALLS_X86_64.mseal, SYSCALLS_X86_64.file_setattr], [335, 452, 462, 469], 'calls newer than the headers');
  // syscall_32.tbl
  t.same([SYSCALLS_X86.exit, SYSCALLS_X86.execve, SYSCALLS_X86.socketcall, SYSCALLS_X86.mkdir, SYSCALLS_X86.clone3], [1, 11, 102, 39, 435]);
  // x32 uses the 64-bit numbers except for its own entry points from 512
  t.same([SYSCALLS_X32.read, SYSCALLS_X32.mkdir, SYSCALLS_X32.execve, SYSCALLS_X32.rt_sigaction], [0, 83, 520, 512]);
  // include/uapi/asm-generic/unistd.h as arm64 uses it
  t.same([SYSCALLS_AARCH64.io_setup, SYSCALLS_AARCH64.openat, SYSCALLS_AARCH64.mkdirat, SYSCALLS_AARCH64.execve, SYSCALLS_AARCH64.getpid], [0, 56, 34, 221, 172]);
  t.same([SYSCALLS_AARCH64.fstat, SYSCALLS_AARCH64.newfstatat, SYSCALLS_AARCH64.mmap, SYSCALLS_AARCH64.renameat], [80, 79, 222, 38], '64-bit variants of the __NR3264 calls');
});

t.test('arch-specific calls are only where they exist', async (t) => {
  t.notOk('open' in SYSCALLS_AARCH64, 'aarch64 has no open');
  t.notOk('fork' in SYSCALLS_AARCH64, 'aarch64 has no fork');
  t.notOk('arch_specific_syscall' in SYSCALLS_AARCH64, 'range markers are not calls');
  t.notOk('socketcall' in SYSCALLS_X86_64);
  t.notOk('map_shadow_stack' in SYSCALLS_X86, 'shadow stacks are x86_64 only');
  t.ok('arch_prctl' in SYSCALLS_X86_64);
});

t.test('every table maps each name to a distinct small number', async (t) => {
  for (const [arch, table] of Object.entries(TABLES)) {
    const numbers = Object.values(table);
    t.ok(numbers.length > 300, `${arch}: ${numbers.length} calls`);
    t.ok(numbers.every((n) => Number.isInteger(n) && n >= 0 && n < 1024), `${arch}: numbers in range`);
    t.equal(new Set(numbers).size, numbers.length, `${arch}: no number used twice`);
  }
});

t.test('the calls since 424 have one number on every architecture', async (t) => {
  t.equal(SYSCALLS_UNIFIED.pidfd_send_signal, 424);
  t.equal(SYSCALLS_UNIFIED.listns, 470);
  for (const [arch, table] of Object.entries(TABLES)) {
    t.same(Object.keys(SYSCALLS_UNIFIED).filter((k) => table[k] !== SYSCALLS_UNIFIED[k]), [], arch);
  }
  t.equal(SYSCALLS_AARCH64.map_shadow_stack, 453);
  t.equal(SYSCALLS_X86_64.map_shadow_stack, 453);
  t.notOk('map_shadow_stack' in SYSCALLS_X32);
});
