// linux.resources.devices -> devices.deny/devices.allow lines (v1) or a BPF device program (v2).
import type { LinuxResources } from '../../runtime/spec/types';
import { reduceDeviceRules, v1DeviceWrites } from '../device-rules';
import { deviceProgramBytes } from '../devices-bpf';
import { type PlanContext, type Step, write } from '../plan-context';

const F = 'linux.resources.devices';

export async function planDevices(r: LinuxResources, ctx: PlanContext): Promise<Step[]> {
  if (!r.devices) return [];
  const t = await ctx.need('devices', F);
  // rules apply in order on top of a fresh cgroup's allow-all state (runtime specs start with a deny-all rule)
  const policy = reduceDeviceRules(r.devices);
  if (t.version === 2) return [{ kind: 'devices-bpf', dir: t.dir, program: deviceProgramBytes(policy), field: F }];
  return v1DeviceWrites(policy).map((w) => write(t, w.file, w.line, F));
}
