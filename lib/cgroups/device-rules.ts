// Reduces linux.resources.devices (applied in order, last match wins) to a default plus exceptions,
// the way the v1 devices controller itself keeps them. The v2 BPF program is generated from this, so
// v1 and v2 hosts enforce exactly the same thing (runc's devices emulator does the same job).
import type { LinuxDeviceCgroup } from '../runtime/spec/types';

export const ACCESS = { m: 1, r: 2, w: 4 } as const; // BPF_DEVCG_ACC_* bit values
export const ALL_ACCESS = 7;

export interface DeviceException {
  type: 'b' | 'c' | 'a';
  /** -1 = any */
  major: number;
  minor: number;
  /** ACCESS bits */
  access: number;
}

export interface DevicePolicy {
  /** what happens to a device no exception matches */
  defaultAllow: boolean;
  /** each matching exception flips the default for the access bits it lists */
  exceptions: DeviceException[];
}

export function accessBits(access: string | undefined): number {
  let bits = 0;
  for (const ch of access ?? 'rwm') bits |= ACCESS[ch as keyof typeof ACCESS] ?? 0;
  return bits;
}

function num(v: number | null | undefined): number {
  return v === undefined || v === null ? -1 : v;
}

/** `base` is the state before these rules: a fresh cgroup allows everything (its parent permitting). */
export function reduceDeviceRules(rules: LinuxDeviceCgroup[], base: DevicePolicy = { defaultAllow: true, exceptions: [] }): DevicePolicy {
  let defaultAllow = base.defaultAllow;
  let exceptions = base.exceptions.map((e) => ({ ...e }));
  for (const rule of rules) {
    const type = rule.type ?? 'a';
    const major = num(rule.major);
    const minor = num(rule.minor);
    const access = accessBits(rule.access);
    if (type === 'a' && major === -1 && minor === -1) {
      // "a" resets the whole list, like writing "a" to devices.allow/deny
      defaultAllow = rule.allow;
      exceptions = [];
      continue;
    }
    if (rule.allow !== defaultAllow) {
      // an exception to the default: merge into an identical entry or add one
      const same = exceptions.find((e) => e.type === type && e.major === major && e.minor === minor);
      if (same) same.access |= access;
      else exceptions.push({ type, major, minor, access });
    } else {
      // agrees with the default: removes those bits from identical exceptions (no holes in wildcards,
      // exactly as the kernel's v1 list behaves)
      for (const e of exceptions) {
        if (e.type === type && e.major === major && e.minor === minor) e.access &= ~access;
      }
      exceptions = exceptions.filter((e) => e.access !== 0);
    }
  }
  return { defaultAllow, exceptions };
}

function accessString(bits: number): string {
  return (bits & ACCESS.r ? 'r' : '') + (bits & ACCESS.w ? 'w' : '') + (bits & ACCESS.m ? 'm' : '');
}

/** "c 1:3 rwm" as devices.allow/devices.deny expect it. */
export function v1RuleLine(e: DeviceException): string {
  const n = (x: number): string => (x === -1 ? '*' : String(x));
  return `${e.type} ${n(e.major)}:${n(e.minor)} ${accessString(e.access)}`;
}

/** The v1 writes that produce a policy: reset with "a", then each exception into the opposite file. */
export function v1DeviceWrites(p: DevicePolicy): { file: 'devices.allow' | 'devices.deny'; line: string }[] {
  const writes: { file: 'devices.allow' | 'devices.deny'; line: string }[] = [];
  writes.push({ file: p.defaultAllow ? 'devices.allow' : 'devices.deny', line: 'a' });
  for (const e of p.exceptions) writes.push({ file: p.defaultAllow ? 'devices.deny' : 'devices.allow', line: v1RuleLine(e) });
  return writes;
}
