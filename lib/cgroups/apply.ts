// Carries out a plan: enables v2 controllers along the path, then performs each write in order. The writes
// go to the kernel in batches (batch.ts); a v2 device program is installed between them where the plan has it.
import path = require('node:path');
import { Batch, type Outcome, textOf } from './batch';
import { installDeviceProgram } from './devices-v2';
import { hierarchies } from './hierarchy';
import type { Step } from './plan-context';

/** Runs one batch and throws what its failing op means; createCgroup's also tracks the directories it made. */
export type RunBatch = (b: Batch) => Promise<Outcome>;

const runOrThrow: RunBatch = (b) => b.runOrThrow();

const words = (text: string | undefined): string[] => (text ?? '').trim().split(/\s+/).filter(Boolean);

/**
 * v2: "+ctrl" must be in cgroup.subtree_control from the top of the tree down to the leaf's parent. Runs
 * `before` (createCgroup's mkdirs) together with reads of that chain, and returns a new batch holding the
 * missing writes, top first. Only what is missing is written: on a configured host nothing above our own
 * cgroup is touched.
 */
export async function enableControllers(leaf: string, controllers: Set<string>, before = new Batch(), run = runOrThrow): Promise<Batch> {
  if (controllers.size === 0) return before;
  const root = hierarchies().unified ?? '/sys/fs/cgroup';
  const chain: string[] = [];
  for (let d = path.dirname(leaf); d.startsWith(root); d = path.dirname(d)) {
    chain.unshift(d);
    if (d === root) break;
  }
  const reads = chain.map((dir) => ({
    dir,
    available: before.read(dir, 'cgroup.controllers', { nofail: true }),
    enabled: before.read(dir, 'cgroup.subtree_control', { nofail: true }),
  }));
  const out = await run(before);
  const writes = new Batch();
  // a child's cgroup.controllers is its parent's subtree_control: what we add above becomes usable below
  let addedAbove: string[] = [];
  for (const r of reads) {
    const text = textOf(out, r.available);
    const available = new Set(text === undefined ? [] : [...words(text), ...addedAbove]);
    const enabled = new Set(words(textOf(out, r.enabled)));
    const missing = [...controllers].filter((c) => available.has(c) && !enabled.has(c));
    if (missing.length) writes.write(r.dir, 'cgroup.subtree_control', missing.map((c) => `+${c}`).join(' '), { field: 'linux.resources' });
    addedAbove = missing;
  }
  return writes;
}

/**
 * The plan's steps in order, after the ops already in `first`: consecutive writes share a batch, a device
 * program (v2) runs between two batches. The first failure stops everything after it.
 */
export async function applySteps(steps: Step[], first = new Batch(), run = runOrThrow): Promise<void> {
  let b = first;
  for (const s of steps) {
    if (s.kind === 'write') {
      b.write(s.dir, s.file, s.value, { field: s.field });
      continue;
    }
    if (b.size) await run(b);
    b = new Batch();
    await installDeviceProgram(s.dir, s.program, s.field);
  }
  if (b.size) await run(b);
}
