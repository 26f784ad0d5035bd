// Checking and emitting argument comparisons. seccomp_data.args[i] is a u64 at offset 16 + 8*i, and cBPF
// only compares 32-bit words, so a 64-bit comparison looks at the high word first and only falls through to
// the low word when the high words are equal. All comparisons are unsigned, as in libseccomp.
import { ConfigError } from '../../util/errors';
import { Assembler, Label } from './bpf';

export type CmpOp = 'SCMP_CMP_NE' | 'SCMP_CMP_LT' | 'SCMP_CMP_LE' | 'SCMP_CMP_EQ' | 'SCMP_CMP_GE' | 'SCMP_CMP_GT' | 'SCMP_CMP_MASKED_EQ';
export const OPS: readonly string[] = ['SCMP_CMP_NE', 'SCMP_CMP_LT', 'SCMP_CMP_LE', 'SCMP_CMP_EQ', 'SCMP_CMP_GE', 'SCMP_CMP_GT', 'SCMP_CMP_MASKED_EQ'];

/** One validated comparison. For MASKED_EQ, `value` is the mask and `valueTwo` the datum. */
export interface ArgCheck {
  index: number;
  op: CmpOp;
  value: bigint;
  valueTwo: bigint;
}

const U64_MAX = (1n << 64n) - 1n;
const SECCOMP_DATA_ARGS = 16;

function parseU64(v: unknown, field: string, warnings: string[]): bigint {
  if (typeof v === 'bigint' && v >= 0n && v <= U64_MAX) return v;
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && BigInt(v) <= U64_MAX) {
    // JSON numbers above 2^53 have already been rounded by JSON.parse.
    if (!Number.isSafeInteger(v)) warnings.push(`${field}: ${v} is above 2^53 and may have lost precision in JSON`);
    return BigInt(v);
  }
  throw new ConfigError(field, `must be an unsigned 64-bit integer, got ${JSON.stringify(String(v))}`);
}

/** Validate one entry of syscalls[i].args. */
export function parseArg(arg: unknown, field: string, warnings: string[]): ArgCheck {
  if (typeof arg !== 'object' || arg === null) throw new ConfigError(field, 'must be an object');
  const a = arg as Record<string, unknown>;
  if (!Number.isInteger(a.index) || (a.index as number) < 0 || (a.index as number) > 5) {
    throw new ConfigError(`${field}.index`, `must be an integer from 0 to 5, got ${JSON.stringify(a.index)}`);
  }
  if (typeof a.op !== 'string' || !OPS.includes(a.op)) {
    throw new ConfigError(`${field}.op`, `unknown operator ${JSON.stringify(a.op)}`);
  }
  return {
    index: a.index as number,
    op: a.op as CmpOp,
    value: parseU64(a.value, `${field}.value`, warnings),
    valueTwo: a.valueTwo === undefined || a.valueTwo === null ? 0n : parseU64(a.valueTwo, `${field}.valueTwo`, warnings),
  };
}

const low = (v: bigint): number => Number(v & 0xffffffffn);
const high = (v: bigint): number => Number(v >> 32n);

/**
 * Emit code that continues after itself when the check holds and jumps to `fail` when it does not.
 * `wide` is false on 32-bit arches, whose arguments only have a low word.
 */
export function emitArgCheck(asm: Assembler, check: ArgCheck, fail: Label, wide: boolean): void {
  const pass = asm.label('arg-pass');
  const lowOffset = SECCOMP_DATA_ARGS + 8 * check.index; // little-endian: low word first
  const { op } = check;
  // For MASKED_EQ compare (arg & mask) with the datum; for the others compare arg with value.
  const masked = op === 'SCMP_CMP_MASKED_EQ';
  const k = masked ? check.valueTwo : check.value;

  if (wide) {
    asm.load(lowOffset + 4);
    if (masked) asm.and(high(check.value));
    switch (op) {
      case 'SCMP_CMP_EQ':
      case 'SCMP_CMP_MASKED_EQ':
        asm.jump('jeq', high(k), 'next', fail);
        break;
      case 'SCMP_CMP_NE': // different high words already make the values differ
        asm.jump('jeq', high(k), 'next', pass);
        break;
      case 'SCMP_CMP_GT':
      case 'SCMP_CMP_GE': // a larger high word decides; a smaller one fails; equal ones look at the low word
        asm.jump('jgt', high(k), pass, 'next');
        asm.jump('jeq', high(k), 'next', fail);
        break;
      case 'SCMP_CMP_LT':
      case 'SCMP_CMP_LE': // a smaller high word decides; a larger one fails
        asm.jump('jge', high(k), 'next', pass);
        asm.jump('jeq', high(k), 'next', fail);
        break;
    }
  }

  asm.load(lowOffset);
  if (masked) asm.and(low(check.value));
  switch (op) {
    case 'SCMP_CMP_EQ':
    case 'SCMP_CMP_MASKED_EQ':
      asm.jump('jeq', low(k), pass, fail);
      break;
    case 'SCMP_CMP_NE':
      asm.jump('jeq', low(k), fail, pass);
      break;
    case 'SCMP_CMP_GT':
      asm.jump('jgt', low(k), pass, fail);
      break;
    case 'SCMP_CMP_GE':
      asm.jump('jge', low(k), pass, fail);
      break;
    case 'SCMP_CMP_LT': // a < k  ⇔  !(a >= k)
      asm.jump('jge', low(k), fail, pass);
      break;
    case 'SCMP_CMP_LE': // a <= k  ⇔  !(a > k)
      asm.jump('jgt', low(k), fail, pass);
      break;
  }
  asm.bind(pass);
}
