// A small classic-BPF interpreter for seccomp filters, for tests: it checks a program the way the kernel
// does before loading it (bpf_check_classic + seccomp_check_filter, for the opcodes berth emits), then runs
// it on a struct seccomp_data and returns the 32-bit action value.

export interface SeccompData {
  nr: number;
  arch: number;
  /** up to six u64 arguments; missing ones are 0 */
  args?: (bigint | number)[];
  instructionPointer?: bigint;
}

interface Insn {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

const SECCOMP_DATA_SIZE = 64;

function decode(filter: Buffer): Insn[] {
  if (filter.length % 8 !== 0) throw new Error(`filter length ${filter.length} is not a multiple of 8`);
  const out: Insn[] = [];
  for (let o = 0; o < filter.length; o += 8) {
    out.push({ code: filter.readUInt16LE(o), jt: filter.readUInt8(o + 2), jf: filter.readUInt8(o + 3), k: filter.readUInt32LE(o + 4) });
  }
  return out;
}

/** Throws what the kernel would refuse with EINVAL. */
export function checkFilter(filter: Buffer): void {
  const prog = decode(filter);
  if (prog.length === 0 || prog.length > 4096) throw new Error(`program has ${prog.length} instructions`);
  prog.forEach((insn, pc) => {
    const left = prog.length - pc - 1;
    switch (insn.code) {
      case 0x20: // ld [k]
        if (insn.k >= SECCOMP_DATA_SIZE || insn.k % 4 !== 0) throw new Error(`pc ${pc}: bad load offset ${insn.k}`);
        break;
      case 0x54: // and #k
      case 0x06: // ret #k
        break;
      case 0x05: // ja
        if (insn.k >= left) throw new Error(`pc ${pc}: ja past the end`);
        break;
      case 0x15:
      case 0x25:
      case 0x35:
      case 0x45:
        if (insn.jt >= left || insn.jf >= left) throw new Error(`pc ${pc}: jump past the end`);
        break;
      default:
        throw new Error(`pc ${pc}: opcode 0x${insn.code.toString(16)} not allowed`);
    }
  });
  if (prog[prog.length - 1].code !== 0x06) throw new Error('program does not end in ret');
}

function seccompData(d: SeccompData): Buffer {
  const buf = Buffer.alloc(SECCOMP_DATA_SIZE);
  buf.writeInt32LE(d.nr, 0);
  buf.writeUInt32LE(d.arch >>> 0, 4);
  buf.writeBigUInt64LE(d.instructionPointer ?? 0n, 8);
  (d.args ?? []).forEach((a, i) => buf.writeBigUInt64LE(BigInt.asUintN(64, BigInt(a)), 16 + 8 * i));
  return buf;
}

export interface RunResult {
  ret: number;
  /** instructions executed, to see that the search stays short */
  steps: number;
}

export function runFilterDetailed(filter: Buffer, data: SeccompData): RunResult {
  checkFilter(filter);
  const prog = decode(filter);
  const mem = seccompData(data);
  let a = 0;
  let pc = 0;
  let steps = 0;
  for (;;) {
    const insn = prog[pc];
    if (!insn) throw new Error(`fell off the end at pc ${pc}`);
    steps++;
    pc++;
    switch (insn.code) {
      case 0x20:
        a = mem.readUInt32LE(insn.k);
        break;
      case 0x54:
        a = (a & insn.k) >>> 0;
        break;
      case 0x06:
        return { ret: insn.k >>> 0, steps };
      case 0x05:
        pc += insn.k;
        break;
      case 0x15:
        pc += a === insn.k ? insn.jt : insn.jf;
        break;
      case 0x25:
        pc += a > insn.k ? insn.jt : insn.jf;
        break;
      case 0x35:
        pc += a >= insn.k ? insn.jt : insn.jf;
        break;
      case 0x45:
        pc += (a & insn.k) !== 0 ? insn.jt : insn.jf;
        break;
      default:
        throw new Error(`opcode 0x${insn.code.toString(16)}`);
    }
  }
}

/** The filter's 32-bit return value for one system call. */
export function runFilter(filter: Buffer, data: SeccompData): number {
  return runFilterDetailed(filter, data).ret;
}

// Kernel values, written out here rather than imported so the tests do not trust the code under test.
export const AUDIT_ARCH_X86_64 = 0xc000003e;
export const AUDIT_ARCH_I386 = 0x40000003;
export const AUDIT_ARCH_AARCH64 = 0xc00000b7;
export const RET_KILL_PROCESS = 0x80000000;
export const RET_KILL_THREAD = 0;
export const RET_TRAP = 0x00030000;
export const RET_ERRNO = (errno: number): number => (0x00050000 | errno) >>> 0;
export const RET_TRACE = (msg: number): number => (0x7ff00000 | msg) >>> 0;
export const RET_LOG = 0x7ffc0000;
export const RET_ALLOW = 0x7fff0000;
