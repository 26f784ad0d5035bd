// The small controllers: pids, hugetlb, net_cls/net_prio, rdma, and raw v2 keys (linux.resources.unified).
import path = require('node:path');
import type { LinuxResources } from '../../runtime/spec/types';
import { ConfigError } from '../../util/errors';
import { hugePageSizeKb } from '../convert';
import { exists } from '../files';
import { type PlanContext, type Step, write } from '../plan-context';

const F = 'linux.resources';

export async function planPids(r: LinuxResources, ctx: PlanContext): Promise<Step[]> {
  if (!r.pids || r.pids.limit === 0) return [];
  const t = await ctx.need('pids', `${F}.pids.limit`);
  return [write(t, 'pids.max', r.pids.limit < 0 ? 'max' : r.pids.limit, `${F}.pids.limit`)];
}

export async function planHugetlb(r: LinuxResources, ctx: PlanContext): Promise<Step[]> {
  const steps: Step[] = [];
  for (const [i, h] of (r.hugepageLimits ?? []).entries()) {
    const field = `${F}.hugepageLimits[${i}]`;
    const kb = hugePageSizeKb(h.pageSize) as number;
    if (!(await exists(`/sys/kernel/mm/hugepages/hugepages-${kb}kB`))) {
      throw new ConfigError(`${field}.pageSize`, `${h.pageSize} pages are not supported by this machine`);
    }
    const t = await ctx.need('hugetlb', field);
    const file = t.version === 1 ? `hugetlb.${h.pageSize}.limit_in_bytes` : `hugetlb.${h.pageSize}.max`;
    steps.push(write(t, file, h.limit, `${field}.limit`));
  }
  return steps;
}

export async function planNetwork(r: LinuxResources, ctx: PlanContext): Promise<Step[]> {
  const n = r.network;
  const steps: Step[] = [];
  if (!n) return steps;
  if (n.classID !== undefined && n.classID !== null) {
    const t = await ctx.need('net_cls', `${F}.network.classID`);
    steps.push(write(t, 'net_cls.classid', n.classID, `${F}.network.classID`));
  }
  for (const [i, p] of (n.priorities ?? []).entries()) {
    const t = await ctx.need('net_prio', `${F}.network.priorities[${i}]`);
    steps.push(write(t, 'net_prio.ifpriomap', `${p.name} ${p.priority}`, `${F}.network.priorities[${i}]`));
  }
  return steps;
}

export async function planRdma(r: LinuxResources, ctx: PlanContext): Promise<Step[]> {
  const steps: Step[] = [];
  for (const [dev, l] of Object.entries(r.rdma ?? {})) {
    const t = await ctx.need('rdma', `${F}.rdma.${dev}`);
    const parts = [dev];
    if (l.hcaHandles !== undefined) parts.push(`hca_handle=${l.hcaHandles}`);
    if (l.hcaObjects !== undefined) parts.push(`hca_object=${l.hcaObjects}`);
    if (parts.length > 1) steps.push(write(t, 'rdma.max', parts.join(' '), `${F}.rdma.${dev}`));
  }
  return steps;
}

/** Raw v2 keys, written last so they can refine what the typed fields set (as runc orders them). */
export async function planUnified(r: LinuxResources, ctx: PlanContext): Promise<Step[]> {
  const steps: Step[] = [];
  const unified = ctx.handle.paths.unified;
  for (const [key, value] of Object.entries(r.unified ?? {})) {
    const field = `${F}.unified["${key}"]`;
    if (!unified) throw new ConfigError(field, 'this host has no cgroup v2 hierarchy');
    const ctrl = key.slice(0, key.indexOf('.'));
    if (ctrl !== 'cgroup') {
      const v1Name = ctrl === 'io' ? 'blkio' : ctrl;
      const t = await ctx.find(v1Name);
      if (!t || t.version !== 2) throw new ConfigError(field, `the ${ctrl} controller is not available in the v2 hierarchy here`);
    }
    if (ctx.mode === 'update' && !(await exists(path.join(unified, key)))) {
      throw new ConfigError(field, `there is no ${key} file in ${unified}`);
    }
    steps.push({ kind: 'write', dir: unified, file: key, value, field });
  }
  return steps;
}
