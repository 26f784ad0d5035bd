// linux.resources.cpu -> cpu.* and cpuset.* (v1) or cpu.weight/max/max.burst/idle and cpuset.* (v2).
import type { LinuxResources } from '../../runtime/spec/types';
import { sharesToWeight } from '../convert';
import { type PlanContext, type Step, type Target, write } from '../plan-context';

const F = 'linux.resources.cpu';
type Cpu = NonNullable<LinuxResources['cpu']>;

const set = (v: number | undefined | null): v is number => v !== undefined && v !== null && v !== 0;

function planV1(c: Cpu, t: Target): Step[] {
  const steps: Step[] = [];
  if (set(c.shares)) steps.push(write(t, 'cpu.shares', c.shares, `${F}.shares`));
  // period before quota: the kernel checks quota against the period in force
  if (set(c.period)) steps.push(write(t, 'cpu.cfs_period_us', c.period, `${F}.period`));
  if (set(c.quota)) steps.push(write(t, 'cpu.cfs_quota_us', c.quota, `${F}.quota`));
  if (c.burst !== undefined && c.burst !== null) steps.push(write(t, 'cpu.cfs_burst_us', c.burst, `${F}.burst`));
  if (set(c.realtimePeriod)) steps.push(write(t, 'cpu.rt_period_us', c.realtimePeriod, `${F}.realtimePeriod`));
  if (set(c.realtimeRuntime)) steps.push(write(t, 'cpu.rt_runtime_us', c.realtimeRuntime, `${F}.realtimeRuntime`));
  if (c.idle !== undefined && c.idle !== null) steps.push(write(t, 'cpu.idle', c.idle, `${F}.idle`));
  return steps;
}

function planV2(c: Cpu, t: Target): Step[] {
  const steps: Step[] = [];
  if (set(c.shares)) steps.push(write(t, 'cpu.weight', sharesToWeight(c.shares), `${F}.shares`));
  if (set(c.quota) || set(c.period)) {
    // "max" or the quota, then the period when given (the kernel keeps the old period otherwise)
    let value = set(c.quota) && c.quota > 0 ? String(c.quota) : 'max';
    if (set(c.period)) value += ` ${c.period}`;
    steps.push(write(t, 'cpu.max', value, set(c.quota) ? `${F}.quota` : `${F}.period`));
  }
  if (c.burst !== undefined && c.burst !== null) steps.push(write(t, 'cpu.max.burst', c.burst, `${F}.burst`));
  if (c.idle !== undefined && c.idle !== null) steps.push(write(t, 'cpu.idle', c.idle, `${F}.idle`));
  return steps;
}

export async function planCpu(r: LinuxResources, ctx: PlanContext): Promise<Step[]> {
  const c = r.cpu;
  if (!c) return [];
  const steps: Step[] = [];
  const cpuTouched = [c.shares, c.quota, c.period, c.burst, c.realtimePeriod, c.realtimeRuntime, c.idle].some((v) => v !== undefined && v !== null);
  if (cpuTouched) {
    const t = await ctx.need('cpu', F);
    steps.push(...(t.version === 1 ? planV1(c, t) : planV2(c, t)));
  }
  if (c.cpus || c.mems) {
    const t = await ctx.need('cpuset', c.cpus ? `${F}.cpus` : `${F}.mems`);
    if (c.cpus) steps.push(write(t, 'cpuset.cpus', c.cpus, `${F}.cpus`));
    if (c.mems) steps.push(write(t, 'cpuset.mems', c.mems, `${F}.mems`));
  }
  return steps;
}
