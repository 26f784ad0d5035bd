// The architectures a filter can cover: how the kernel names them in seccomp_data.arch and where their
// system call numbers come from. A table loads when a filter first reads it: every launch reaches this
// module (the exec shim's rule), most launches need one table or none, and each costs start-up time.

// AUDIT_ARCH_* from <linux/audit.h>: ELF machine | 64-bit flag | little-endian flag.
export const AUDIT_ARCH_X86_64 = 0xc000003e;
export const AUDIT_ARCH_I386 = 0x40000003;
export const AUDIT_ARCH_AARCH64 = 0xc00000b7;

/** x32 shares AUDIT_ARCH_X86_64 and marks its calls with this bit in the number. */
export const X32_SYSCALL_BIT = 0x40000000;

export interface ArchInfo {
  /** OCI / libseccomp name, e.g. SCMP_ARCH_X86_64 */
  name: string;
  auditArch: number;
  /** name → number as written in the table */
  table: Readonly<Record<string, number>>;
  /** added to every table number: the number seccomp_data.nr carries */
  nrBase: number;
  /** 64-bit arches compare both halves of an argument; 32-bit ones only the low word, as libseccomp does */
  wideArgs: boolean;
}

type Table = Readonly<Record<string, number>>;

/** An ArchInfo whose table is loaded on first read. */
function arch(info: Omit<ArchInfo, 'table'>, load: () => Table): ArchInfo {
  let table: Table | undefined;
  return { ...info, get table() { return table ??= load(); } };
}

export const ARCHES: Readonly<Record<string, ArchInfo>> = {
  SCMP_ARCH_X86_64: arch({ name: 'SCMP_ARCH_X86_64', auditArch: AUDIT_ARCH_X86_64, nrBase: 0, wideArgs: true },
    () => (require('../tables/syscalls-x86_64') as typeof import('../tables/syscalls-x86_64')).SYSCALLS_X86_64),
  SCMP_ARCH_X32: arch({ name: 'SCMP_ARCH_X32', auditArch: AUDIT_ARCH_X86_64, nrBase: X32_SYSCALL_BIT, wideArgs: true },
    () => (require('../tables/syscalls-x32') as typeof import('../tables/syscalls-x32')).SYSCALLS_X32),
  SCMP_ARCH_X86: arch({ name: 'SCMP_ARCH_X86', auditArch: AUDIT_ARCH_I386, nrBase: 0, wideArgs: false },
    () => (require('../tables/syscalls-x86') as typeof import('../tables/syscalls-x86')).SYSCALLS_X86),
  SCMP_ARCH_AARCH64: arch({ name: 'SCMP_ARCH_AARCH64', auditArch: AUDIT_ARCH_AARCH64, nrBase: 0, wideArgs: true },
    () => (require('../tables/syscalls-aarch64') as typeof import('../tables/syscalls-aarch64')).SYSCALLS_AARCH64),
};

/** Valid in the runtime spec, but berth has no syscall table for them: their sections are left out. */
export const ARCHES_WITHOUT_TABLE: readonly string[] = [
  'SCMP_ARCH_ARM', 'SCMP_ARCH_MIPS', 'SCMP_ARCH_MIPS64', 'SCMP_ARCH_MIPS64N32', 'SCMP_ARCH_MIPSEL',
  'SCMP_ARCH_MIPSEL64', 'SCMP_ARCH_MIPSEL64N32', 'SCMP_ARCH_PPC', 'SCMP_ARCH_PPC64', 'SCMP_ARCH_PPC64LE',
  'SCMP_ARCH_S390', 'SCMP_ARCH_S390X', 'SCMP_ARCH_PARISC', 'SCMP_ARCH_PARISC64', 'SCMP_ARCH_RISCV64',
  'SCMP_ARCH_LOONGARCH64', 'SCMP_ARCH_M68K', 'SCMP_ARCH_SH', 'SCMP_ARCH_SHEB',
];

/** The architecture this Node runs on; libseccomp always includes it in a filter. */
export function nativeArch(): string | undefined {
  return { x64: 'SCMP_ARCH_X86_64', arm64: 'SCMP_ARCH_AARCH64' }[process.arch as string];
}
