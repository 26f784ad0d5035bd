// linux.resources.blockIO -> blkio.* (v1) or io.weight / io.bfq.weight / io.max (v2).
import path = require('node:path');
import type { LinuxResources, LinuxThrottleDevice } from '../../runtime/spec/types';
import { ConfigError } from '../../util/errors';
import { blkioWeightToIoWeight } from '../convert';
import { exists } from '../files';
import { hierarchies } from '../hierarchy';
import { type PlanContext, type Step, type Target, write } from '../plan-context';

const F = 'linux.resources.blockIO';
type BlockIO = NonNullable<LinuxResources['blockIO']>;
const THROTTLES = [
  ['throttleReadBpsDevice', 'blkio.throttle.read_bps_device', 'rbps'],
  ['throttleWriteBpsDevice', 'blkio.throttle.write_bps_device', 'wbps'],
  ['throttleReadIOPSDevice', 'blkio.throttle.read_iops_device', 'riops'],
  ['throttleWriteIOPSDevice', 'blkio.throttle.write_iops_device', 'wiops'],
] as const;

/** Weight files exist only with an I/O scheduler that has weights (BFQ, or CFQ on old kernels). */
async function weightFile(t: Target, names: string[], field: string): Promise<string> {
  // probe at the hierarchy's root: present there when the scheduler supports weights at all
  const root = t.version === 1 ? hierarchies().v1.blkio : path.dirname(t.dir);
  for (const n of names) if (root && (await exists(path.join(root, n)))) return n;
  if (await exists(t.dir)) for (const n of names) if (await exists(path.join(t.dir, n))) return n;
  throw new ConfigError(field, `no ${names.join(' or ')} here: the block I/O scheduler does not support weights`);
}

async function planV1(b: BlockIO, t: Target): Promise<Step[]> {
  const steps: Step[] = [];
  const weighted = b.weight || b.leafWeight || (b.weightDevice ?? []).length > 0;
  const wf = weighted ? await weightFile(t, ['blkio.bfq.weight', 'blkio.weight'], `${F}.weight`) : '';
  if (b.weight) steps.push(write(t, wf, b.weight, `${F}.weight`));
  if (b.leafWeight) steps.push(write(t, 'blkio.leaf_weight', b.leafWeight, `${F}.leafWeight`));
  (b.weightDevice ?? []).forEach((d, i) => {
    if (d.weight) steps.push(write(t, `${wf}_device`, `${d.major}:${d.minor} ${d.weight}`, `${F}.weightDevice[${i}].weight`));
    if (d.leafWeight) steps.push(write(t, 'blkio.leaf_weight_device', `${d.major}:${d.minor} ${d.leafWeight}`, `${F}.weightDevice[${i}].leafWeight`));
  });
  for (const [key, file] of THROTTLES) {
    (b[key] ?? []).forEach((d: LinuxThrottleDevice, i: number) => steps.push(write(t, file, `${d.major}:${d.minor} ${d.rate}`, `${F}.${key}[${i}]`)));
  }
  return steps;
}

async function planV2(b: BlockIO, t: Target): Promise<Step[]> {
  const steps: Step[] = [];
  if (b.weight || (b.weightDevice ?? []).length > 0) {
    const wf = await weightFile(t, ['io.bfq.weight', 'io.weight'], `${F}.weight`);
    // io.bfq.weight takes the blkio range as is; io.weight has its own range
    const conv = (w: number): number => (wf === 'io.bfq.weight' ? w : blkioWeightToIoWeight(w));
    if (b.weight) steps.push(write(t, wf, conv(b.weight), `${F}.weight`));
    (b.weightDevice ?? []).forEach((d, i) => {
      if (d.weight) steps.push(write(t, wf, `${d.major}:${d.minor} ${conv(d.weight)}`, `${F}.weightDevice[${i}].weight`));
    });
  }
  for (const [key, , io] of THROTTLES) {
    (b[key] ?? []).forEach((d: LinuxThrottleDevice, i: number) =>
      steps.push(write(t, 'io.max', `${d.major}:${d.minor} ${io}=${d.rate === 0 ? 'max' : d.rate}`, `${F}.${key}[${i}]`)),
    );
  }
  return steps;
}

export async function planBlockIO(r: LinuxResources, ctx: PlanContext): Promise<Step[]> {
  const b = r.blockIO;
  if (!b) return [];
  const any = b.weight || b.leafWeight || (b.weightDevice ?? []).length || THROTTLES.some(([k]) => (b[k] ?? []).length);
  if (!any) return [];
  const t = await ctx.need('blkio', F);
  return t.version === 1 ? planV1(b, t) : planV2(b, t);
}
