// A tiny classic-BPF assembler: instructions refer to labels, and `assemble` turns labels into the 8-bit
// relative offsets cBPF wants. A conditional jump can only skip 255 instructions forward, so when a target
// is further away the assembler routes it through an unconditional `ja` (32-bit offset) placed right after
// the jump, and repeats until every offset fits. Code generators never count instructions themselves.

// Opcodes from <linux/filter.h>: class | size | mode, class | op | source.
export const BPF_LD_W_ABS = 0x20; // A = *(u32 *)(seccomp_data + k)
export const BPF_ALU_AND_K = 0x54; // A &= k
export const BPF_JMP_JA = 0x05; // pc += k
export const BPF_JMP_JEQ_K = 0x15; // pc += (A == k) ? jt : jf
export const BPF_JMP_JGT_K = 0x25; // pc += (A > k) ? jt : jf   (unsigned)
export const BPF_JMP_JGE_K = 0x35; // pc += (A >= k) ? jt : jf  (unsigned)
export const BPF_JMP_JSET_K = 0x45; // pc += (A & k) ? jt : jf
export const BPF_RET_K = 0x06; // return k

/** The kernel refuses longer programs (BPF_MAXINSNS). */
export const BPF_MAXINSNS = 4096;
/** Size of one struct sock_filter. */
export const SOCK_FILTER_SIZE = 8;

export type Cond = 'jeq' | 'jgt' | 'jge' | 'jset';
const COND_CODE: Record<Cond, number> = { jeq: BPF_JMP_JEQ_K, jgt: BPF_JMP_JGT_K, jge: BPF_JMP_JGE_K, jset: BPF_JMP_JSET_K };

/** A place in the program; bound once, referenced by any number of jumps before it. */
export class Label {
  constructor(readonly name: string) {}
}

/** `'next'` means the instruction that follows the jump in the code as written. */
export type Target = Label | 'next';

type Item =
  | { kind: 'label'; label: Label }
  | { kind: 'insn'; code: number; k: number }
  | { kind: 'jump'; code: number; k: number; jt: Label; jf: Label }
  | { kind: 'ja'; target: Label };

export class Assembler {
  private items: Item[] = [];

  label(name: string): Label {
    return new Label(name);
  }

  bind(label: Label): void {
    this.items.push({ kind: 'label', label });
  }

  /** Load the 32-bit word at `offset` of struct seccomp_data into A. */
  load(offset: number): void {
    this.items.push({ kind: 'insn', code: BPF_LD_W_ABS, k: offset });
  }

  and(k: number): void {
    this.items.push({ kind: 'insn', code: BPF_ALU_AND_K, k: k >>> 0 });
  }

  ret(k: number): void {
    this.items.push({ kind: 'insn', code: BPF_RET_K, k: k >>> 0 });
  }

  ja(target: Label): void {
    this.items.push({ kind: 'ja', target });
  }

  /** Compare A with k; continue at jt when true, at jf when false. */
  jump(cond: Cond, k: number, jt: Target, jf: Target): void {
    // 'next' becomes a real label right after the jump, so that trampolines inserted later keep the meaning.
    const next = jt === 'next' || jf === 'next' ? new Label('next') : undefined;
    this.items.push({
      kind: 'jump',
      code: COND_CODE[cond],
      k: k >>> 0,
      jt: jt === 'next' ? next! : jt,
      jf: jf === 'next' ? next! : jf,
    });
    if (next) this.bind(next);
  }

  /** Resolve labels and encode struct sock_filter[] (little-endian, as the kernel reads it on x86/arm). */
  assemble(): Buffer {
    for (;;) {
      const pos = this.layout();
      const far = (from: number, to: Label): boolean => this.offset(pos, from, to) > 255;
      let index = 0;
      let changed = false;
      const out: Item[] = [];
      for (const item of this.items) {
        if (item.kind === 'jump' && (far(index, item.jt) || far(index, item.jf))) {
          changed = true;
          out.push(...this.trampoline(item, far(index, item.jt), far(index, item.jf)));
        } else {
          out.push(item);
        }
        if (item.kind !== 'label') index++;
      }
      if (!changed) return this.encode(pos);
      this.items = out;
    }
  }

  /** `jcond T, F` with T and/or F far away becomes `jcond t1, f1; t1: ja T; f1: ja F`. */
  private trampoline(item: Extract<Item, { kind: 'jump' }>, jtFar: boolean, jfFar: boolean): Item[] {
    const out: Item[] = [];
    const t1 = jtFar ? new Label('trampoline') : item.jt;
    const f1 = jfFar ? new Label('trampoline') : item.jf;
    out.push({ ...item, jt: t1, jf: f1 });
    if (jtFar) out.push({ kind: 'label', label: t1 }, { kind: 'ja', target: item.jt });
    if (jfFar) out.push({ kind: 'label', label: f1 }, { kind: 'ja', target: item.jf });
    return out;
  }

  /** Instruction index of every label. */
  private layout(): Map<Label, number> {
    const pos = new Map<Label, number>();
    let index = 0;
    for (const item of this.items) {
      if (item.kind === 'label') {
        if (pos.has(item.label)) throw new Error(`bpf: label ${item.label.name} bound twice`);
        pos.set(item.label, index);
      } else {
        index++;
      }
    }
    return pos;
  }

  private offset(pos: Map<Label, number>, from: number, to: Label): number {
    const at = pos.get(to);
    if (at === undefined) throw new Error(`bpf: label ${to.name} is never bound`);
    const off = at - from - 1;
    // cBPF can only jump forward: a backward jump is a bug in the code generator.
    if (off < 0) throw new Error(`bpf: backward jump to ${to.name}`);
    return off;
  }

  private encode(pos: Map<Label, number>): Buffer {
    const insns = this.items.filter((i) => i.kind !== 'label');
    const buf = Buffer.alloc(insns.length * SOCK_FILTER_SIZE);
    insns.forEach((item, i) => {
      let code: number, jt = 0, jf = 0, k: number;
      if (item.kind === 'insn') {
        ({ code, k } = item);
      } else if (item.kind === 'jump') {
        ({ code, k } = item);
        jt = this.offset(pos, i, item.jt);
        jf = this.offset(pos, i, item.jf);
      } else if (item.kind === 'ja') {
        code = BPF_JMP_JA;
        k = this.offset(pos, i, item.target);
      } else {
        throw new Error('bpf: label in instruction stream');
      }
      const o = i * SOCK_FILTER_SIZE;
      buf.writeUInt16LE(code, o);
      buf.writeUInt8(jt, o + 2);
      buf.writeUInt8(jf, o + 3);
      buf.writeUInt32LE(k, o + 4);
    });
    return buf;
  }
}
