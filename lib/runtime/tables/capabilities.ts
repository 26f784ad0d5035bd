// Linux capability numbers (<linux/capability.h>) and the bit masks capset(2) and prctl take.
import { ConfigError } from '../../util/errors';

/** Capability name → bit number. */
export const CAPABILITIES: Readonly<Record<string, number>> = {
  CAP_CHOWN: 0,
  CAP_DAC_OVERRIDE: 1,
  CAP_DAC_READ_SEARCH: 2,
  CAP_FOWNER: 3,
  CAP_FSETID: 4,
  CAP_KILL: 5,
  CAP_SETGID: 6,
  CAP_SETUID: 7,
  CAP_SETPCAP: 8,
  CAP_LINUX_IMMUTABLE: 9,
  CAP_NET_BIND_SERVICE: 10,
  CAP_NET_BROADCAST: 11,
  CAP_NET_ADMIN: 12,
  CAP_NET_RAW: 13,
  CAP_IPC_LOCK: 14,
  CAP_IPC_OWNER: 15,
  CAP_SYS_MODULE: 16,
  CAP_SYS_RAWIO: 17,
  CAP_SYS_CHROOT: 18,
  CAP_SYS_PTRACE: 19,
  CAP_SYS_PACCT: 20,
  CAP_SYS_ADMIN: 21,
  CAP_SYS_BOOT: 22,
  CAP_SYS_NICE: 23,
  CAP_SYS_RESOURCE: 24,
  CAP_SYS_TIME: 25,
  CAP_SYS_TTY_CONFIG: 26,
  CAP_MKNOD: 27,
  CAP_LEASE: 28,
  CAP_AUDIT_WRITE: 29,
  CAP_AUDIT_CONTROL: 30,
  CAP_SETFCAP: 31,
  CAP_MAC_OVERRIDE: 32,
  CAP_MAC_ADMIN: 33,
  CAP_SYSLOG: 34,
  CAP_WAKE_ALARM: 35,
  CAP_BLOCK_SUSPEND: 36,
  CAP_AUDIT_READ: 37,
  CAP_PERFMON: 38, // Linux 5.8
  CAP_BPF: 39, // Linux 5.8
  CAP_CHECKPOINT_RESTORE: 40, // Linux 5.9
};

/** The highest capability berth knows (CAP_LAST_CAP of Linux 5.9 and later). */
export const CAP_LAST_CAP = 40;

/** Number of a capability name such as "CAP_NET_ADMIN"; throws naming `field` when unknown. */
export function capabilityNumber(name: string, field: string): number {
  const n = Object.prototype.hasOwnProperty.call(CAPABILITIES, name) ? CAPABILITIES[name] : undefined;
  if (n === undefined) throw new ConfigError(field, `unknown capability ${JSON.stringify(name)}`);
  return n;
}

/** The set as a 64-bit mask (bit n = capability n); unknown names throw a ConfigError naming `field[i]`. */
export function capabilityMask(names: string[], field: string): bigint {
  if (!Array.isArray(names)) throw new ConfigError(field, 'must be an array of capability names');
  let mask = 0n;
  names.forEach((name, i) => {
    mask |= 1n << BigInt(capabilityNumber(name, `${field}[${i}]`));
  });
  return mask;
}

/** Capability names in a mask, lowest bit first (for `berth features` and messages). */
export function capabilityNames(mask: bigint): string[] {
  return Object.keys(CAPABILITIES).filter((name) => (mask >> BigInt(CAPABILITIES[name])) & 1n);
}
