// Builds a BPF_PROG_TYPE_CGROUP_DEVICE program (raw eBPF instructions) from a device policy, mirroring the
// shape of runc's devicefilter: load the request into registers, one block per exception, default last.
import type { DevicePolicy, DeviceException } from './device-rules';
import { ALL_ACCESS } from './device-rules';

// eBPF opcodes used here (linux/bpf.h, linux/bpf_common.h)
export const OP = {
  LDXW: 0x61, // BPF_LDX | BPF_MEM | BPF_W: dst = *(u32 *)(src + off)
  AND32K: 0x54, // BPF_ALU | BPF_AND | BPF_K
  RSH32K: 0x74, // BPF_ALU | BPF_RSH | BPF_K
  MOV32K: 0xb4, // BPF_ALU | BPF_MOV | BPF_K
  MOV32X: 0xbc, // BPF_ALU | BPF_MOV | BPF_X
  JEQK: 0x15, // BPF_JMP | BPF_JEQ | BPF_K: if dst == imm goto pc + 1 + off
  JNEK: 0x55, // BPF_JMP | BPF_JNE | BPF_K: if dst != imm goto pc + 1 + off
  JNEX: 0x5d, // BPF_JMP | BPF_JNE | BPF_X: if dst != src goto pc + 1 + off
  EXIT: 0x95,
} as const;

export const DEV_TYPE = { b: 1, c: 2 } as const; // BPF_DEVCG_DEV_BLOCK, BPF_DEVCG_DEV_CHAR

export interface Insn {
  op: number;
  dst: number;
  src: number;
  off: number;
  imm: number;
}

const insn = (op: number, dst: number, src: number, off: number, imm: number): Insn => ({ op, dst, src, off, imm });

// Registers: R1 = struct bpf_cgroup_dev_ctx *{access_type, major, minor}; R2 = type, R3 = access,
// R4 = major, R5 = minor; R0 = verdict (1 allow, 0 deny).
const PROLOGUE: Insn[] = [
  insn(OP.LDXW, 2, 1, 0, 0),
  insn(OP.AND32K, 2, 0, 0, 0xffff), // access_type low half: device type
  insn(OP.LDXW, 3, 1, 0, 0),
  insn(OP.RSH32K, 3, 0, 0, 16), // access_type high half: requested access bits
  insn(OP.LDXW, 4, 1, 4, 0),
  insn(OP.LDXW, 5, 1, 8, 0),
];

/**
 * One block: each check jumps past the block's end when it fails; the block ends in "return verdict".
 * Access matching follows the v1 controller: an allow exception must cover every requested bit, a deny
 * exception applies when it shares any bit with the request.
 */
function block(e: DeviceException, allowException: boolean, verdict: number): Insn[] {
  const checks: Omit<Insn, 'off'>[] = [];
  if (e.type !== 'a') checks.push({ op: OP.JNEK, dst: 2, src: 0, imm: DEV_TYPE[e.type] });
  if (e.access !== ALL_ACCESS) {
    checks.push({ op: OP.MOV32X, dst: 1, src: 3, imm: 0 });
    checks.push({ op: OP.AND32K, dst: 1, src: 0, imm: e.access });
    // allow: (R3 & bits) == R3, else skip; deny: (R3 & bits) != 0, else skip
    if (allowException) checks.push({ op: OP.JNEX, dst: 1, src: 3, imm: 0 });
    else checks.push({ op: OP.JEQK, dst: 1, src: 0, imm: 0 });
  }
  if (e.major !== -1) checks.push({ op: OP.JNEK, dst: 4, src: 0, imm: e.major | 0 });
  if (e.minor !== -1) checks.push({ op: OP.JNEK, dst: 5, src: 0, imm: e.minor | 0 });
  const out: Insn[] = [];
  const total = checks.length + 2;
  checks.forEach((c, i) => {
    const isJump = c.op === OP.JNEK || c.op === OP.JNEX || c.op === OP.JEQK;
    out.push({ ...c, off: isJump ? total - i - 1 : 0 });
  });
  out.push(insn(OP.MOV32K, 0, 0, 0, verdict), insn(OP.EXIT, 0, 0, 0, 0));
  return out;
}

export function deviceProgram(p: DevicePolicy): Insn[] {
  const verdict = p.defaultAllow ? 0 : 1; // exceptions flip the default
  const out = [...PROLOGUE];
  for (const e of p.exceptions) out.push(...block(e, !p.defaultAllow, verdict));
  out.push(insn(OP.MOV32K, 0, 0, 0, p.defaultAllow ? 1 : 0), insn(OP.EXIT, 0, 0, 0, 0));
  return out;
}

/** struct bpf_insn, 8 bytes each, little endian: code, dst:4|src:4, off (s16), imm (s32). */
export function encode(insns: Insn[]): Buffer {
  const buf = Buffer.alloc(insns.length * 8);
  insns.forEach((i, n) => {
    buf.writeUInt8(i.op, n * 8);
    buf.writeUInt8((i.src << 4) | i.dst, n * 8 + 1);
    buf.writeInt16LE(i.off, n * 8 + 2);
    buf.writeInt32LE(i.imm, n * 8 + 4);
  });
  return buf;
}

export function decode(buf: Buffer): Insn[] {
  const out: Insn[] = [];
  for (let n = 0; n + 8 <= buf.length; n += 8) {
    const regs = buf.readUInt8(n + 1);
    out.push({ op: buf.readUInt8(n), dst: regs & 0xf, src: regs >> 4, off: buf.readInt16LE(n + 2), imm: buf.readInt32LE(n + 4) });
  }
  return out;
}

/** The whole program for a policy, ready for bpf(BPF_PROG_LOAD). */
export function deviceProgramBytes(p: DevicePolicy): Buffer {
  return encode(deviceProgram(p));
}
