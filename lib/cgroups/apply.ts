// Carries out a plan: enables v2 controllers along the path, then performs each write in order.
import * as path from 'node:path';
import { readOptional, writeField } from './files';
import { hierarchies } from './hierarchy';
import type { Step } from './plan-context';
import { installDeviceProgram } from './devices-v2';

/** Writes "+ctrl" into cgroup.subtree_control from the top of the v2 tree down to the leaf's parent. */
export async function enableControllers(leaf: string, controllers: Set<string>): Promise<void> {
  if (controllers.size === 0) return;
  const root = hierarchies().unified ?? '/sys/fs/cgroup';
  const chain: string[] = [];
  for (let d = path.dirname(leaf); d.startsWith(root); d = path.dirname(d)) {
    chain.unshift(d);
    if (d === root) break;
  }
  for (const dir of chain) {
    const available = new Set((await readOptional(dir, 'cgroup.controllers'))?.trim().split(/\s+/));
    const enabled = new Set((await readOptional(dir, 'cgroup.subtree_control'))?.trim().split(/\s+/));
    // only touch what is missing: on a configured host nothing above our own cgroup is written
    const missing = [...controllers].filter((c) => available.has(c) && !enabled.has(c));
    if (missing.length) await writeField(dir, 'cgroup.subtree_control', missing.map((c) => `+${c}`).join(' '), 'linux.resources');
  }
}

export async function applySteps(steps: Step[]): Promise<void> {
  for (const s of steps) {
    if (s.kind === 'write') await writeField(s.dir, s.file, s.value, s.field);
    else await installDeviceProgram(s.dir, s.program, s.field);
  }
}
