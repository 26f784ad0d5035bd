// OCI seccomp action and flag names to the kernel's values (<linux/seccomp.h>).
import { ConfigError } from '../../util/errors';

export const SECCOMP_RET_KILL_PROCESS = 0x80000000;
export const SECCOMP_RET_KILL_THREAD = 0x00000000;
export const SECCOMP_RET_TRAP = 0x00030000;
export const SECCOMP_RET_ERRNO = 0x00050000;
export const SECCOMP_RET_USER_NOTIF = 0x7fc00000;
export const SECCOMP_RET_TRACE = 0x7ff00000;
export const SECCOMP_RET_LOG = 0x7ffc0000;
export const SECCOMP_RET_ALLOW = 0x7fff0000;
/** The low 16 bits of a return value carry the errno (ERRNO) or the tracer's message (TRACE). */
export const SECCOMP_RET_DATA = 0x0000ffff;
export const SECCOMP_RET_ACTION_FULL = 0xffff0000;

const EPERM = 1;
export const ENOSYS = 38;

/** Actions that take no data. SCMP_ACT_KILL is libseccomp's old name for killing the thread. */
const PLAIN_ACTIONS: Readonly<Record<string, number>> = {
  SCMP_ACT_KILL: SECCOMP_RET_KILL_THREAD,
  SCMP_ACT_KILL_THREAD: SECCOMP_RET_KILL_THREAD,
  SCMP_ACT_KILL_PROCESS: SECCOMP_RET_KILL_PROCESS,
  SCMP_ACT_TRAP: SECCOMP_RET_TRAP,
  SCMP_ACT_ALLOW: SECCOMP_RET_ALLOW,
  SCMP_ACT_LOG: SECCOMP_RET_LOG,
};

/** Actions whose low 16 bits come from errnoRet; like runc, both default to EPERM. */
const DATA_ACTIONS: Readonly<Record<string, number>> = {
  SCMP_ACT_ERRNO: SECCOMP_RET_ERRNO,
  SCMP_ACT_TRACE: SECCOMP_RET_TRACE,
};

/**
 * The 32-bit filter return value for an action name. `errnoRet` is only valid with SCMP_ACT_ERRNO and
 * SCMP_ACT_TRACE: the runtime spec says a runtime must fail when it is given with another action.
 */
export function parseAction(name: unknown, errnoRet: unknown, field: string, errnoField: string): number {
  if (typeof name !== 'string') throw new ConfigError(field, `must be a string, got ${JSON.stringify(name)}`);
  if (name === 'SCMP_ACT_NOTIFY') {
    throw new ConfigError(field, 'SCMP_ACT_NOTIFY (seccomp user notification) is not supported by berth yet');
  }
  const data = DATA_ACTIONS[name];
  if (data !== undefined) {
    if (errnoRet === undefined || errnoRet === null) return (data | EPERM) >>> 0;
    if (!Number.isInteger(errnoRet) || (errnoRet as number) < 0 || (errnoRet as number) > SECCOMP_RET_DATA) {
      throw new ConfigError(errnoField, `must be an integer from 0 to 65535, got ${JSON.stringify(errnoRet)}`);
    }
    return (data | (errnoRet as number)) >>> 0;
  }
  const plain = PLAIN_ACTIONS[name];
  if (plain === undefined) throw new ConfigError(field, `unknown action "${name}"`);
  if (errnoRet !== undefined && errnoRet !== null) {
    throw new ConfigError(errnoField, `is only valid with SCMP_ACT_ERRNO or SCMP_ACT_TRACE, not ${name}`);
  }
  return plain;
}

/** Every action name berth accepts (for `berth features`). */
export function actionNames(): string[] {
  return [...Object.keys(PLAIN_ACTIONS), ...Object.keys(DATA_ACTIONS)].sort();
}

/** A readable name for a filter return value, for warnings and tests. */
export function actionName(ret: number): string {
  const action = (ret & SECCOMP_RET_ACTION_FULL) >>> 0;
  const data = ret & SECCOMP_RET_DATA;
  for (const [name, value] of Object.entries(DATA_ACTIONS)) if (value === action) return `${name}(${data})`;
  for (const [name, value] of Object.entries(PLAIN_ACTIONS)) {
    if (value === ret >>> 0 && name !== 'SCMP_ACT_KILL') return name;
  }
  return `0x${(ret >>> 0).toString(16)}`;
}

export const SECCOMP_FILTER_FLAG_TSYNC = 1;
export const SECCOMP_FILTER_FLAG_LOG = 2;
export const SECCOMP_FILTER_FLAG_SPEC_ALLOW = 4;
export const SECCOMP_FILTER_FLAG_NEW_LISTENER = 8;
export const SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV = 32;

/** The flags the runtime spec allows in linux.seccomp.flags. */
const FLAGS: Readonly<Record<string, number>> = {
  SECCOMP_FILTER_FLAG_TSYNC,
  SECCOMP_FILTER_FLAG_LOG,
  SECCOMP_FILTER_FLAG_SPEC_ALLOW,
  SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV,
};

/** Every flag name berth accepts in linux.seccomp.flags (for `berth features`). */
export function flagNames(): string[] {
  return Object.keys(FLAGS);
}

/** OR of the named flags for seccomp(2). */
export function parseFlags(flags: unknown, field: string, warnings: string[]): number {
  if (flags === undefined || flags === null) return 0;
  if (!Array.isArray(flags)) throw new ConfigError(field, 'must be an array of flag names');
  let out = 0;
  flags.forEach((name: unknown, i) => {
    const value = typeof name === 'string' ? FLAGS[name] : undefined;
    if (value === undefined) throw new ConfigError(`${field}[${i}]`, `unknown flag ${JSON.stringify(name)}`);
    out |= value;
  });
  // The kernel rejects WAIT_KILLABLE_RECV without NEW_LISTENER, which only SCMP_ACT_NOTIFY would need.
  if (out & SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV) {
    out &= ~SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
    warnings.push(`${field}: SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV ignored: it only applies to SCMP_ACT_NOTIFY`);
  }
  return out;
}
