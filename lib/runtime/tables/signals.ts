// Signal names and numbers for `berth kill` and friends (x86_64 and arm64 share these numbers).
import { ConfigError } from '../../util/errors';

/** Standard signals, as Go's unix.SignalNum knows them (runc looks names up there), plus two aliases. */
export const SIGNALS: Readonly<Record<string, number>> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGILL: 4,
  SIGTRAP: 5,
  SIGABRT: 6,
  SIGIOT: 6, // alias of SIGABRT
  SIGBUS: 7,
  SIGFPE: 8,
  SIGKILL: 9,
  SIGUSR1: 10,
  SIGSEGV: 11,
  SIGUSR2: 12,
  SIGPIPE: 13,
  SIGALRM: 14,
  SIGTERM: 15,
  SIGSTKFLT: 16,
  SIGCHLD: 17,
  SIGCONT: 18,
  SIGSTOP: 19,
  SIGTSTP: 20,
  SIGTTIN: 21,
  SIGTTOU: 22,
  SIGURG: 23,
  SIGXCPU: 24,
  SIGXFSZ: 25,
  SIGVTALRM: 26,
  SIGPROF: 27,
  SIGWINCH: 28,
  SIGIO: 29,
  SIGPOLL: 29, // alias of SIGIO
  SIGPWR: 30,
  SIGSYS: 31,
};

/** Real-time signals as the C library numbers them: glibc keeps 32 and 33 for itself. */
export const SIGRTMIN = 34;
export const SIGRTMAX = 64;

/**
 * Parse a signal the way runc does: a number, or a name with or without the SIG prefix, in any case
 * ("9", "KILL", "SIGKILL", "sigkill"). Also SIGRTMIN, SIGRTMIN+n and SIGRTMAX-n as `kill -l` prints them.
 */
export function parseSignal(s: string, field = 'signal'): number {
  const text = String(s).trim();
  if (/^\d+$/.test(text)) {
    const n = Number(text);
    // 0 is allowed: kill(pid, 0) only checks that the process exists.
    if (n > SIGRTMAX) throw new ConfigError(field, `signal number ${text} is out of range 0-${SIGRTMAX}`);
    return n;
  }
  let name = text.toUpperCase();
  if (!name.startsWith('SIG')) name = `SIG${name}`;
  if (Object.prototype.hasOwnProperty.call(SIGNALS, name)) return SIGNALS[name];
  const rt = /^SIGRT(MIN|MAX)(?:([+-])(\d+))?$/.exec(name);
  if (rt) {
    const offset = rt[3] === undefined ? 0 : Number(rt[3]) * (rt[2] === '+' ? 1 : -1);
    const n = (rt[1] === 'MIN' ? SIGRTMIN : SIGRTMAX) + offset;
    if (n >= SIGRTMIN && n <= SIGRTMAX) return n;
  }
  throw new ConfigError(field, `unknown signal ${JSON.stringify(s)}`);
}

/** "SIGKILL" for 9, "SIGRTMIN+2" for 36; the number as text when it has no name. */
export function signalName(n: number): string {
  for (const [name, value] of Object.entries(SIGNALS)) {
    if (value === n && name !== 'SIGIOT' && name !== 'SIGPOLL') return name;
  }
  if (n === SIGRTMIN) return 'SIGRTMIN';
  if (n === SIGRTMAX) return 'SIGRTMAX';
  if (n > SIGRTMIN && n < SIGRTMAX) return `SIGRTMIN+${n - SIGRTMIN}`;
  return String(n);
}
