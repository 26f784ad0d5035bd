// linux.resources.devices -> devices.deny/devices.allow lines (v1) or a BPF device program (v2).
import type { LinuxResources } from '../../runtime/spec/types';
import { accessBits, reduceDeviceRules, v1DeviceWrites, v1RuleLine, type DevicePolicy } from '../device-rules';
import { deviceProgramBytes } from '../devices-bpf';
import { readOptional } from '../files';
import { type PlanContext, type Step, type Target, write } from '../plan-context';

const F = 'linux.resources.devices';

/** devices.list: "a *:* rwm" means allow-all (the kernel does not list deny exceptions then). */
export function parseDevicesList(text: string): DevicePolicy {
  const exceptions: DevicePolicy['exceptions'] = [];
  for (const line of text.split('\n')) {
    const m = /^([abc]) (\*|\d+):(\*|\d+) ([rwm]+)$/.exec(line.trim());
    if (!m) continue;
    const n = (s: string): number => (s === '*' ? -1 : Number(s));
    if (m[1] === 'a') return { defaultAllow: true, exceptions: [] };
    exceptions.push({ type: m[1] as 'b' | 'c', major: n(m[2]), minor: n(m[3]), access: accessBits(m[4]) });
  }
  return { defaultAllow: false, exceptions };
}

/**
 * Allow-list to allow-list on a live v1 cgroup: add the new exceptions, then take away what is no longer
 * wanted, so a running container never passes through "deny everything" as the reset would make it.
 */
function v1Transition(t: Target, from: DevicePolicy, to: DevicePolicy): Step[] {
  const steps = to.exceptions.map((e) => write(t, 'devices.allow', v1RuleLine(e), F));
  for (const old of from.exceptions) {
    const kept = to.exceptions.find((e) => e.type === old.type && e.major === old.major && e.minor === old.minor);
    const drop = old.access & ~(kept?.access ?? 0);
    if (drop) steps.push(write(t, 'devices.deny', v1RuleLine({ ...old, access: drop }), F));
  }
  return steps;
}

export async function planDevices(r: LinuxResources, ctx: PlanContext): Promise<Step[]> {
  if (!r.devices) return [];
  const t = await ctx.need('devices', F);
  // rules apply in order on top of a fresh cgroup's allow-all state (runtime specs start with a deny-all rule)
  const policy = reduceDeviceRules(r.devices);
  if (t.version === 2) return [{ kind: 'devices-bpf', dir: t.dir, program: deviceProgramBytes(policy), field: F }];
  if (ctx.mode === 'update' && !policy.defaultAllow) {
    const current = await readOptional(t.dir, 'devices.list');
    if (current !== undefined && !parseDevicesList(current).defaultAllow) return v1Transition(t, parseDevicesList(current), policy);
  }
  return v1DeviceWrites(policy).map((w) => write(t, w.file, w.line, F));
}
