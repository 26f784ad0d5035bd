// The shape of the generated filter:
//
//   load arch
//   jeq AUDIT_ARCH_X86_64 → x86_64 group; jeq AUDIT_ARCH_I386 → x86 group; ...; ret BAD_ARCH
//   x86_64 group: load nr; nr >= 0x40000000 ? (x32 section or BAD_ARCH, -1 excepted) : x86_64 section
//   section: [nr > largest number the profile names ? ret ENOSYS (runc's stub, see profile.ts)]
//            a binary search over the sorted call numbers (jge), ending in small leaves of jeq tests;
//            each leaf ends with `ret default`, followed by the leaf's action returns and argument blocks.
//   argument block: rule 1's checks → ret action 1; rule 2's checks → ret action 2; ...; ret default
//
// The binary search keeps a call's path to about log2(n) + 8 comparisons instead of a scan of the whole
// list, and keeps every jump short; the assembler adds trampolines where one is not.
import { Assembler, Label } from './bpf';
import { ArchInfo, AUDIT_ARCH_X86_64, X32_SYSCALL_BIT } from './arches';
import { ArgCheck, emitArgCheck } from './args';
import { ENOSYS, SECCOMP_RET_ERRNO, SECCOMP_RET_KILL_THREAD } from './actions';

/**
 * What a call from a non-listed architecture gets. libseccomp's default "bad arch" action is
 * SCMP_ACT_KILL (kill the thread) and runc keeps it, so berth does the same.
 */
export const BAD_ARCH_ACTION = SECCOMP_RET_KILL_THREAD;

const OFFSET_NR = 0; // struct seccomp_data { int nr; __u32 arch; __u64 instruction_pointer; __u64 args[6]; }
const OFFSET_ARCH = 4;
/** Calls tested one after another at the bottom of the binary search. */
const LEAF_SIZE = 8;

/** The rules for one call number on one arch, in the order they are tried. */
export interface CallRules {
  /** conditional rules: the first whose checks all hold decides */
  conditional: { action: number; args: ArgCheck[] }[];
  /** an unconditional rule; when set it wins over every conditional rule, as in libseccomp */
  unconditional?: number;
  /** the profile entry it came from, for warnings */
  unconditionalFrom?: string;
}

export interface Section {
  arch: ArchInfo;
  /** keyed by the number seccomp_data.nr carries (x32 numbers include X32_SYSCALL_BIT) */
  calls: Map<number, CallRules>;
  /** when set, numbers above it answer ENOSYS instead of reaching the search (runc's -ENOSYS stub) */
  enosysAbove?: number;
}

export function generate(sections: Section[], defaultAction: number): Buffer {
  const asm = new Assembler();
  const badArch = asm.label('bad-arch');

  // Group sections by seccomp_data.arch: x86_64 and x32 share one value.
  const groups = new Map<number, Section[]>();
  for (const s of sections) groups.set(s.arch.auditArch, [...(groups.get(s.arch.auditArch) ?? []), s]);
  const groupLabels = new Map<number, Label>();

  asm.load(OFFSET_ARCH);
  for (const audit of groups.keys()) {
    const label = asm.label(`arch-${audit.toString(16)}`);
    groupLabels.set(audit, label);
    asm.jump('jeq', audit, label, 'next');
  }
  asm.ret(BAD_ARCH_ACTION);

  for (const [audit, group] of groups) {
    asm.bind(groupLabels.get(audit)!);
    asm.load(OFFSET_NR);
    if (audit === AUDIT_ARCH_X86_64) {
      // libseccomp rejects x32 numbers on an x86_64 filter (and the reverse) with the bad-arch action.
      const x64 = group.find((s) => s.arch.nrBase === 0);
      const x32 = group.find((s) => s.arch.nrBase === X32_SYSCALL_BIT);
      if (x64 && x32) {
        const x32Label = asm.label('x32');
        asm.jump('jge', X32_SYSCALL_BIT, x32Label, 'next');
        emitSection(asm, x64, defaultAction);
        asm.bind(x32Label);
        emitSection(asm, x32, defaultAction);
      } else if (x64) {
        // ...except nr -1, which a tracer sets to skip a call; the kernel runs the filter again after it.
        const x64Label = asm.label('x86_64');
        asm.jump('jge', X32_SYSCALL_BIT, 'next', x64Label);
        asm.jump('jeq', 0xffffffff, x64Label, badArch);
        asm.bind(x64Label);
        emitSection(asm, x64, defaultAction);
      } else if (x32) {
        asm.jump('jge', X32_SYSCALL_BIT, 'next', badArch);
        emitSection(asm, x32, defaultAction);
      }
    } else {
      for (const s of group) emitSection(asm, s, defaultAction);
    }
  }

  asm.bind(badArch);
  asm.ret(BAD_ARCH_ACTION);
  return asm.assemble();
}

function emitSection(asm: Assembler, section: Section, defaultAction: number): void {
  if (section.enosysAbove !== undefined) {
    const known = asm.label('known-nr');
    asm.jump('jgt', section.enosysAbove, 'next', known);
    asm.ret(SECCOMP_RET_ERRNO | ENOSYS);
    asm.bind(known);
  }
  const numbers = [...section.calls.keys()].sort((a, b) => a - b);
  emitSearch(asm, section, numbers, defaultAction);
}

/** Binary search: A holds the call number; `numbers` is sorted and every path ends in a ret. */
function emitSearch(asm: Assembler, section: Section, numbers: number[], defaultAction: number): void {
  if (numbers.length <= LEAF_SIZE) {
    emitLeaf(asm, section, numbers, defaultAction);
    return;
  }
  const mid = numbers.length >> 1;
  const upper = asm.label(`nr>=${numbers[mid]}`);
  asm.jump('jge', numbers[mid], upper, 'next');
  emitSearch(asm, section, numbers.slice(0, mid), defaultAction);
  asm.bind(upper);
  emitSearch(asm, section, numbers.slice(mid), defaultAction);
}

function emitLeaf(asm: Assembler, section: Section, numbers: number[], defaultAction: number): void {
  const returns = new Map<number, Label>(); // one `ret` per distinct action in this leaf
  const blocks: [Label, CallRules][] = [];
  for (const nr of numbers) {
    const rules = section.calls.get(nr)!;
    let target: Label;
    if (rules.unconditional !== undefined) {
      target = returns.get(rules.unconditional) ?? asm.label(`ret-${rules.unconditional.toString(16)}`);
      returns.set(rules.unconditional, target);
    } else {
      target = asm.label(`args-${nr}`);
      blocks.push([target, rules]);
    }
    asm.jump('jeq', nr, target, 'next');
  }
  asm.ret(defaultAction);
  for (const [action, label] of returns) {
    asm.bind(label);
    asm.ret(action);
  }
  for (const [label, rules] of blocks) {
    asm.bind(label);
    emitArgBlock(asm, rules, section.arch.wideArgs, defaultAction);
  }
}

/** Rules are ORed in order; the checks within one rule are ANDed. */
function emitArgBlock(asm: Assembler, rules: CallRules, wide: boolean, defaultAction: number): void {
  for (const rule of rules.conditional) {
    const nextRule = asm.label('next-rule');
    for (const check of rule.args) emitArgCheck(asm, check, nextRule, wide);
    asm.ret(rule.action);
    asm.bind(nextRule);
  }
  asm.ret(defaultAction);
}
