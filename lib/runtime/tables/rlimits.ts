// Resource limit numbers for setrlimit/prlimit (<asm-generic/resource.h>, the same on x86_64 and arm64).
import { ConfigError } from '../../util/errors';

export const RLIMITS: Readonly<Record<string, number>> = {
  RLIMIT_CPU: 0,
  RLIMIT_FSIZE: 1,
  RLIMIT_DATA: 2,
  RLIMIT_STACK: 3,
  RLIMIT_CORE: 4,
  RLIMIT_RSS: 5,
  RLIMIT_NPROC: 6,
  RLIMIT_NOFILE: 7,
  RLIMIT_MEMLOCK: 8,
  RLIMIT_AS: 9,
  RLIMIT_LOCKS: 10,
  RLIMIT_SIGPENDING: 11,
  RLIMIT_MSGQUEUE: 12,
  RLIMIT_NICE: 13,
  RLIMIT_RTPRIO: 14,
  RLIMIT_RTTIME: 15,
};

/** Number of an rlimit type such as "RLIMIT_NOFILE"; throws naming `field` when unknown. */
export function rlimitNumber(type: string, field: string): number {
  const n = Object.prototype.hasOwnProperty.call(RLIMITS, type) ? RLIMITS[type] : undefined;
  if (n === undefined) throw new ConfigError(field, `unknown rlimit type ${JSON.stringify(type)}`);
  return n;
}
