// Validation of an OCI LinuxSeccomp object into plain numbers the code generator can use. Every error
// names the field it is about, e.g. `linux.seccomp.syscalls[2].action: unknown action "SCMP_ACT_FOO"`.
import { ConfigError } from '../../util/errors';
import {
  ENOSYS, parseAction, parseFlags, SECCOMP_RET_ACTION_FULL, SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO, SECCOMP_RET_LOG,
  SECCOMP_RET_TRACE,
} from './actions';
import { ArchInfo, ARCHES, ARCHES_WITHOUT_TABLE } from './arches';
import { ArgCheck, parseArg } from './args';

export interface Rule {
  /** path of this entry, e.g. "linux.seccomp.syscalls[4]" */
  field: string;
  names: string[];
  /** filter return value */
  action: number;
  /** all must hold (AND) */
  args: ArgCheck[];
}

export interface Profile {
  defaultAction: number;
  flags: number;
  /** the native arch first, then the listed ones that berth has tables for */
  arches: ArchInfo[];
  rules: Rule[];
  /** every name in the profile, including rules dropped for repeating the default (for the ENOSYS stub) */
  referenced: string[];
  /** whether calls newer than any the profile names get ENOSYS instead of the default (see codegen) */
  enosysStub: boolean;
}

export function parseProfile(profile: unknown, field: string, native: string, warnings: string[]): Profile {
  if (typeof profile !== 'object' || profile === null) throw new ConfigError(field, 'must be an object');
  const p = profile as Record<string, unknown>;
  if (p.defaultAction === undefined) throw new ConfigError(`${field}.defaultAction`, 'is required');
  const defaultAction = parseAction(p.defaultAction, p.defaultErrnoRet, `${field}.defaultAction`, `${field}.defaultErrnoRet`);
  if (p.listenerPath !== undefined && p.listenerPath !== '') {
    throw new ConfigError(`${field}.listenerPath`, 'seccomp user notification is not supported by berth yet');
  }
  const flags = parseFlags(p.flags, `${field}.flags`, warnings);
  const arches = parseArches(p.architectures, `${field}.architectures`, native, warnings);

  const rules: Rule[] = [];
  const referenced: string[] = [];
  const syscalls = p.syscalls ?? [];
  if (!Array.isArray(syscalls)) throw new ConfigError(`${field}.syscalls`, 'must be an array');
  syscalls.forEach((entry: unknown, i) => {
    const rule = parseRule(entry, `${field}.syscalls[${i}]`, warnings);
    referenced.push(...rule.names);
    // runc drops rules that repeat the default action (libseccomp refuses them); this also keeps such a
    // conditional rule from shadowing a later one for the same call.
    if (rule.action !== defaultAction) rules.push(rule);
  });
  return { defaultAction, flags, arches, rules, referenced, enosysStub: wantsEnosysStub(defaultAction) };
}

/**
 * runc prepends a stub that answers ENOSYS for call numbers above the largest one a profile names, so
 * that a C library trying a call newer than the profile (clone3, fchmodat2 ...) falls back to the old
 * call instead of failing with the default EPERM. It skips that when the default already lets calls
 * through (ALLOW, LOG, TRACE: a tracer handles new calls itself) or already is ENOSYS. berth does the same.
 */
function wantsEnosysStub(defaultAction: number): boolean {
  const action = (defaultAction & SECCOMP_RET_ACTION_FULL) >>> 0;
  if (action === SECCOMP_RET_ALLOW || action === SECCOMP_RET_LOG || action === SECCOMP_RET_TRACE) return false;
  return defaultAction !== (SECCOMP_RET_ERRNO | ENOSYS) >>> 0;
}

function parseArches(list: unknown, field: string, native: string, warnings: string[]): ArchInfo[] {
  const out: ArchInfo[] = [ARCHES[native]];
  if (list === undefined || list === null) return out;
  if (!Array.isArray(list)) throw new ConfigError(field, 'must be an array of architecture names');
  list.forEach((name: unknown, i) => {
    const arch = typeof name === 'string' ? ARCHES[name] : undefined;
    if (arch) {
      if (!out.includes(arch)) out.push(arch);
    } else if (typeof name === 'string' && ARCHES_WITHOUT_TABLE.includes(name)) {
      warnings.push(`${field}[${i}]: no system call table for ${name}; its calls get the bad-arch action (kill)`);
    } else {
      throw new ConfigError(`${field}[${i}]`, `unknown architecture ${JSON.stringify(name)}`);
    }
  });
  return out;
}

function parseRule(entry: unknown, field: string, warnings: string[]): Rule {
  if (typeof entry !== 'object' || entry === null) throw new ConfigError(field, 'must be an object');
  const e = entry as Record<string, unknown>;
  if (!Array.isArray(e.names) || e.names.length === 0) {
    throw new ConfigError(`${field}.names`, 'must be a non-empty array of system call names');
  }
  e.names.forEach((n: unknown, j) => {
    if (typeof n !== 'string' || n === '') throw new ConfigError(`${field}.names[${j}]`, 'must be a non-empty string');
  });
  const action = parseAction(e.action, e.errnoRet, `${field}.action`, `${field}.errnoRet`);
  const args = e.args ?? [];
  if (!Array.isArray(args)) throw new ConfigError(`${field}.args`, 'must be an array');
  return {
    field,
    names: e.names as string[],
    action,
    args: args.map((a: unknown, j) => parseArg(a, `${field}.args[${j}]`, warnings)),
  };
}
