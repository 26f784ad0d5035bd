// The planner's view of a handle: which hierarchy serves a controller, and the steps it produces.
// Planning reads only; every check that can fail on bad input happens here, before the first write.
import path = require('node:path');
import { ConfigError } from '../util/errors';
import { readOptional } from './files';
import { hierarchies } from './hierarchy';
import type { CgroupHandle } from './types';

export type Step =
  | { kind: 'write'; dir: string; file: string; value: string; field: string }
  | { kind: 'devices-bpf'; dir: string; program: Buffer; field: string };

export interface Target {
  version: 1 | 2;
  dir: string;
}

/** v1 controller name -> the v2 controller doing that job ('' = part of the v2 core, no enabling needed). */
const V2_NAME: Record<string, string | undefined> = {
  cpu: 'cpu', cpuacct: 'cpu', cpuset: 'cpuset', memory: 'memory', blkio: 'io', pids: 'pids', hugetlb: 'hugetlb',
  rdma: 'rdma', misc: 'misc', devices: '', freezer: '',
};

/** Controllers a v2 cgroup could use: the nearest existing ancestor's cgroup.controllers. */
export async function v2Available(dir: string): Promise<Set<string>> {
  const root = hierarchies().unified ?? '/sys/fs/cgroup';
  for (let d = path.dirname(dir); d.startsWith(root); d = path.dirname(d)) {
    const text = await readOptional(d, 'cgroup.controllers');
    if (text !== undefined) return new Set(text.trim().split(/\s+/).filter(Boolean));
    if (d === root) break;
  }
  return new Set();
}

export class PlanContext {
  /** v2 controllers that must be enabled along the path before the writes */
  readonly enable = new Set<string>();
  /** @param available v2 controllers usable here; probed from the kernel when not given (tests pass it) */
  constructor(readonly handle: CgroupHandle, readonly mode: 'create' | 'update', private available?: Set<string>) {}

  /** The hierarchy serving a (v1-named) controller, or undefined when none does. */
  async find(ctrl: string): Promise<Target | undefined> {
    const v1 = this.handle.paths[ctrl];
    if (v1 && ctrl !== 'unified') return { version: 1, dir: v1 };
    const unified = this.handle.paths.unified;
    const v2 = V2_NAME[ctrl];
    if (!unified || v2 === undefined) return undefined;
    if (v2 === '') return { version: 2, dir: unified };
    this.available ??= await v2Available(unified);
    if (!this.available.has(v2)) return undefined;
    this.enable.add(v2);
    return { version: 2, dir: unified };
  }

  /** Like find, but a missing controller is the config's problem: names the field. */
  async need(ctrl: string, field: string): Promise<Target> {
    const t = await this.find(ctrl);
    if (!t) throw new ConfigError(field, `the ${ctrl} controller is not available on this host`);
    return t;
  }
}

export function write(t: Target, file: string, value: string | number, field: string): Step {
  return { kind: 'write', dir: t.dir, file, value: String(value), field };
}
