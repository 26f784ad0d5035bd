// compileSeccomp: an OCI linux.seccomp profile → a classic BPF program for seccomp(SECCOMP_SET_MODE_FILTER).
// The native bootstrap loads `filter` as its last step before execve; nothing here touches the kernel.
import { BerthError, ConfigError } from '../../util/errors';
import type { LinuxSeccomp } from '../spec/types';
import { actionName } from './actions';
import { ARCHES, nativeArch } from './arches';
import { BPF_MAXINSNS, SOCK_FILTER_SIZE } from './bpf';
import { CallRules, generate, Section } from './codegen';
import { parseProfile, Profile, Rule } from './profile';

export interface CompiledSeccomp {
  /** struct sock_filter[]: u16 code, u8 jt, u8 jf, u32 k, little-endian, 8 bytes each */
  filter: Buffer;
  /** SECCOMP_FILTER_FLAG_* from profile.flags */
  flags: number;
  /** things ignored on purpose, e.g. system calls this kernel's tables do not have */
  warnings: string[];
}

export interface CompileOptions {
  /** the machine's architecture (SCMP_ARCH_*); defaults to the one Node runs on. For tests. */
  nativeArch?: string;
}

export function compileSeccomp(profile: LinuxSeccomp, field = 'linux.seccomp', options: CompileOptions = {}): CompiledSeccomp {
  const native = options.nativeArch ?? nativeArch();
  if (native === undefined || !ARCHES[native]) {
    throw new BerthError(`seccomp: berth has no system call table for this machine (${native ?? process.arch})`, { field });
  }
  const warnings: string[] = [];
  const parsed = parseProfile(profile, field, native, warnings);
  const sections = buildSections(parsed, warnings);
  const filter = generate(sections, parsed.defaultAction);
  const count = filter.length / SOCK_FILTER_SIZE;
  if (count > BPF_MAXINSNS) {
    throw new ConfigError(field, `the compiled filter has ${count} instructions; the kernel accepts at most ${BPF_MAXINSNS}`);
  }
  return { filter, flags: parsed.flags, warnings };
}

/** Resolve names to numbers per arch and collect each number's rules. */
function buildSections(profile: Profile, warnings: string[]): Section[] {
  const sections: Section[] = profile.arches.map((arch) => ({ arch, calls: new Map<number, CallRules>() }));
  for (const rule of profile.rules) {
    rule.names.forEach((name, j) => {
      let known = false;
      for (const section of sections) {
        if (!hasName(section, name)) continue; // profiles list calls of every arch; skip the ones this arch lacks
        known = true;
        addRule(section, section.arch.nrBase + section.arch.table[name], rule, name, warnings);
      }
      if (!known) {
        // Like runc: a name this kernel generation does not know is ignored, not an error.
        const arches = profile.arches.map((a) => a.name).join(', ');
        warnings.push(`${rule.field}.names[${j}]: unknown system call "${name}" ignored (not on ${arches})`);
      }
    });
  }
  if (profile.enosysStub) {
    for (const section of sections) {
      const numbers = profile.referenced.filter((n) => hasName(section, n)).map((n) => section.arch.nrBase + section.arch.table[n]);
      if (numbers.length > 0) section.enosysAbove = Math.max(...numbers);
    }
  }
  return sections;
}

function hasName(section: Section, name: string): boolean {
  return Object.prototype.hasOwnProperty.call(section.arch.table, name);
}

function addRule(section: Section, nr: number, rule: Rule, name: string, warnings: string[]): void {
  const { action, args, field } = rule;
  let rules = section.calls.get(nr);
  if (!rules) {
    rules = { conditional: [] };
    section.calls.set(nr, rules);
  }
  if (args.length > 0) {
    // An unconditional rule already covers every argument value: libseccomp drops the narrower rule.
    if (rules.unconditional === undefined) rules.conditional.push({ action, args });
    return;
  }
  if (rules.unconditional === undefined) {
    rules.unconditional = action;
    rules.unconditionalFrom = field;
    rules.conditional = [];
  } else if (rules.unconditional !== action) {
    // libseccomp keeps the first unconditional rule for a call; say so (once) when a later one disagrees.
    const warning =
      `${field}: "${name}" already has ${actionName(rules.unconditional)} from ` +
      `${rules.unconditionalFrom}; ${actionName(action)} ignored`;
    if (!warnings.includes(warning)) warnings.push(warning);
  }
}
