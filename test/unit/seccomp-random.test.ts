import t from 'tap';
import { compileSeccomp } from '../../lib/runtime/seccomp';
import type { LinuxSeccomp, LinuxSeccompArg, LinuxSyscall } from '../../lib/runtime/spec/types';
import { AUDIT_ARCH_X86_64, RET_ALLOW, RET_ERRNO, RET_KILL_PROCESS, RET_TRAP, runFilter } from './seccomp-interp';
import { rng } from '../helpers/rng';

// A differential test: random profiles and random calls, with the compiled filter's decision checked
// against a direct evaluation of the profile's meaning (written with BigInt, no BPF involved).

const CALLS: Record<string, number> = { read: 0, write: 1, socket: 41, kill: 62, personality: 135 };
const OPS: LinuxSeccompArg['op'][] = ['SCMP_CMP_NE', 'SCMP_CMP_LT', 'SCMP_CMP_LE', 'SCMP_CMP_EQ', 'SCMP_CMP_GE', 'SCMP_CMP_GT', 'SCMP_CMP_MASKED_EQ'];
const VALUES = [0, 1, 5, 0xff, 0xffffffff, 2 ** 32, 2 ** 32 + 5, 2 ** 33, 0xff_0000_00ff, 2 ** 53 - 1];
const ACTIONS: [string, number | undefined, number][] = [
  ['SCMP_ACT_ALLOW', undefined, RET_ALLOW], ['SCMP_ACT_ERRNO', 13, RET_ERRNO(13)], ['SCMP_ACT_ERRNO', 22, RET_ERRNO(22)],
  ['SCMP_ACT_TRAP', undefined, RET_TRAP], ['SCMP_ACT_KILL_PROCESS', undefined, RET_KILL_PROCESS],
];

function holds(arg: LinuxSeccompArg, v: bigint): boolean {
  const value = BigInt(arg.value);
  switch (arg.op) {
    case 'SCMP_CMP_EQ': return v === value;
    case 'SCMP_CMP_NE': return v !== value;
    case 'SCMP_CMP_LT': return v < value;
    case 'SCMP_CMP_LE': return v <= value;
    case 'SCMP_CMP_GT': return v > value;
    case 'SCMP_CMP_GE': return v >= value;
    case 'SCMP_CMP_MASKED_EQ': return (v & value) === BigInt(arg.valueTwo ?? 0);
  }
}

/** What the profile means: rules with the default action are dropped; an unconditional rule for the call
 *  wins (the first one); otherwise the first conditional rule whose args all hold; otherwise the default. */
function expected(p: LinuxSeccomp, rets: Map<LinuxSyscall, number>, defaultRet: number, call: string, args: bigint[]): number {
  // runc's ENOSYS stub: calls above the largest named one, unless the default lets calls through.
  const permissive = [RET_ALLOW, RET_ERRNO(38)].includes(defaultRet);
  const largest = Math.max(...(p.syscalls ?? []).flatMap((r) => r.names.map((n) => CALLS[n])));
  if (!permissive && CALLS[call] > largest) return RET_ERRNO(38);
  const rules = (p.syscalls ?? []).filter((r) => r.names.includes(call) && rets.get(r) !== defaultRet);
  const uncond = rules.find((r) => !r.args || r.args.length === 0);
  if (uncond) return rets.get(uncond)!;
  const hit = rules.find((r) => r.args!.every((a) => holds(a, args[a.index])));
  return hit ? rets.get(hit)! : defaultRet;
}

t.test('random profiles decide like a direct evaluation of the profile', async (t) => {
  const rand = rng(20240611);
  const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)];
  const names = Object.keys(CALLS);
  let checked = 0;
  let mismatches = 0;
  for (let round = 0; round < 150; round++) {
    const [defName, defErrno, defaultRet] = pick(ACTIONS);
    const rets = new Map<LinuxSyscall, number>();
    const syscalls: LinuxSyscall[] = [];
    const ruleCount = 1 + Math.floor(rand() * 8);
    for (let i = 0; i < ruleCount; i++) {
      const [action, errnoRet, ret] = pick(ACTIONS);
      const args: LinuxSeccompArg[] = [];
      const argCount = rand() < 0.15 ? 0 : 1 + Math.floor(rand() * 3);
      for (let j = 0; j < argCount; j++) {
        const op = pick(OPS);
        args.push({ index: Math.floor(rand() * 3), op, value: pick(VALUES), ...(op === 'SCMP_CMP_MASKED_EQ' ? { valueTwo: pick(VALUES) } : {}) });
      }
      const rule: LinuxSyscall = { names: [pick(names), ...(rand() < 0.3 ? [pick(names)] : [])], action, ...(errnoRet ? { errnoRet } : {}), args };
      rets.set(rule, ret);
      syscalls.push(rule);
    }
    const profile: LinuxSeccomp = { defaultAction: defName, ...(defErrno ? { defaultErrnoRet: defErrno } : {}), syscalls };
    const { filter } = compileSeccomp(profile, 'linux.seccomp', { nativeArch: 'SCMP_ARCH_X86_64' });
    for (let k = 0; k < 40; k++) {
      const call = pick(names);
      // Arguments at and around the values used in rules, where off-by-one and word-split bugs show.
      const args = [0, 1, 2].map(() => BigInt.asUintN(64, BigInt(pick(VALUES)) + BigInt(pick([-1, 0, 0, 1]))));
      const got = runFilter(filter, { nr: CALLS[call], arch: AUDIT_ARCH_X86_64, args });
      const want = expected(profile, rets, defaultRet, call, args);
      checked++;
      if (got !== want && mismatches++ < 5) {
        t.fail(`round ${round}: ${call}(${args.map((a) => '0x' + a.toString(16)).join(', ')}) gave 0x${got.toString(16)}, want 0x${want.toString(16)}\n${JSON.stringify(profile)}`);
      }
    }
  }
  t.equal(mismatches, 0, `${checked} random calls agree`);
});
