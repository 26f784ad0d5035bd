// linux.resources.memory -> memory.* files (v1) or memory.max/low/swap.max (v2).
import type { LinuxResources } from '../../runtime/spec/types';
import { ConfigError } from '../../util/errors';
import { swapToV2, v2Bytes } from '../convert';
import { exists, parseNumber, readOptional } from '../files';
import { hierarchies } from '../hierarchy';
import { type PlanContext, type Step, type Target, write } from '../plan-context';
import path = require('node:path');

const F = 'linux.resources.memory';
type Memory = NonNullable<LinuxResources['memory']>;

async function checkBeforeUpdate(m: Memory, t: Target, ctx: PlanContext): Promise<void> {
  if (ctx.mode !== 'update' || !m.checkBeforeUpdate || m.limit === undefined || m.limit === -1) return;
  const usage = parseNumber(await readOptional(t.dir, t.version === 1 ? 'memory.usage_in_bytes' : 'memory.current'));
  if (m.limit <= usage) throw new ConfigError(`${F}.limit`, `${m.limit} is not above current usage ${usage}`);
}

async function planV1(m: Memory, t: Target, ctx: PlanContext): Promise<Step[]> {
  const steps: Step[] = [];
  const limit = m.limit !== undefined && m.limit !== 0 ? write(t, 'memory.limit_in_bytes', m.limit, `${F}.limit`) : undefined;
  let swap: Step | undefined;
  if (m.swap !== undefined && m.swap !== 0) {
    // probed at the hierarchy's root: a new cgroup has no files yet
    const mount = hierarchies().v1.memory;
    const here = (await exists(path.join(t.dir, 'memory.memsw.limit_in_bytes'))) || (mount !== undefined && (await exists(path.join(mount, 'memory.memsw.limit_in_bytes'))));
    if (!here) {
      throw new ConfigError(`${F}.swap`, 'swap accounting is not enabled in this kernel (swapaccount=1)');
    }
    swap = write(t, 'memory.memsw.limit_in_bytes', m.swap, `${F}.swap`);
  }
  // the kernel keeps memory <= memory+swap at every moment: raise memsw first, lower it last
  let swapFirst = false;
  if (swap) {
    // read only when swap is set: a create with a plain limit then costs no read
    const currentMemsw = parseNumber(await readOptional(t.dir, 'memory.memsw.limit_in_bytes'), Infinity) || Infinity;
    swapFirst = m.swap === -1 || (m.swap as number) > currentMemsw;
  }
  if (swapFirst && swap) steps.push(swap);
  if (limit) steps.push(limit);
  if (!swapFirst && swap) steps.push(swap);
  if (m.reservation !== undefined && m.reservation !== 0) steps.push(write(t, 'memory.soft_limit_in_bytes', m.reservation, `${F}.reservation`));
  if (m.swappiness !== undefined && m.swappiness !== null) steps.push(write(t, 'memory.swappiness', m.swappiness, `${F}.swappiness`));
  if (m.disableOOMKiller !== undefined) steps.push(write(t, 'memory.oom_control', m.disableOOMKiller ? 1 : 0, `${F}.disableOOMKiller`));
  return steps;
}

async function planV2(m: Memory, t: Target): Promise<Step[]> {
  const steps: Step[] = [];
  if (m.limit !== undefined && m.limit !== 0) steps.push(write(t, 'memory.max', v2Bytes(m.limit), `${F}.limit`));
  if (m.reservation !== undefined && m.reservation !== 0) steps.push(write(t, 'memory.low', v2Bytes(m.reservation), `${F}.reservation`));
  // swap is memory+swap in the spec: subtract the limit, taking the current one when only swap changes
  let limit = m.limit;
  if (limit === undefined && m.swap) {
    const cur = (await readOptional(t.dir, 'memory.max'))?.trim();
    limit = cur === undefined || cur === 'max' ? -1 : Number(cur);
  }
  const swap = swapToV2(m.swap, limit);
  if (swap !== undefined) {
    // a kernel without swap accounting has no memory.swap.max: the write then fails naming the field
    steps.push(write(t, 'memory.swap.max', String(swap), `${F}.swap`));
  }
  // memory.swappiness, disableOOMKiller and kernel memory have no v2 file: ignored, as runc does
  return steps;
}

export async function planMemory(r: LinuxResources, ctx: PlanContext): Promise<Step[]> {
  const m = r.memory;
  if (!m) return [];
  const touched = [m.limit, m.reservation, m.swap, m.swappiness, m.disableOOMKiller].some((v) => v !== undefined && v !== null);
  if (!touched) return [];
  const t = await ctx.need('memory', F);
  await checkBeforeUpdate(m, t, ctx);
  return t.version === 1 ? planV1(m, t, ctx) : planV2(m, t);
}
