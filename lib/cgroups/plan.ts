// All resource planners in the order their writes must happen.
import type { LinuxResources } from '../runtime/spec/types';
import { type PlanContext, type Step } from './plan-context';
import { planBlockIO } from './resources/blockio';
import { planCpu } from './resources/cpu';
import { planDevices } from './resources/devices';
import { planMemory } from './resources/memory';
import { planHugetlb, planNetwork, planPids, planRdma, planUnified } from './resources/misc';

const PLANNERS = [planDevices, planMemory, planCpu, planPids, planBlockIO, planHugetlb, planNetwork, planRdma, planUnified];

/** Every write, in order; throws ConfigError (before anything is written) for anything unsupported. */
export async function planResources(r: LinuxResources, ctx: PlanContext): Promise<Step[]> {
  const steps: Step[] = [];
  for (const plan of PLANNERS) steps.push(...(await plan(r, ctx)));
  return steps;
}
