// What every lab router (BIRD, FRR) shares: a namespace "bl-<lab>-<name>" on the underlay, like a node,
// with a directory in the lab for config, sockets and log, and a daemon started detached inside it.
// Lab.down removes them like every lab namespace (processes by namespace, then the namespace).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BerthError } from '../util/errors';
import { readFileIfExists } from '../util/fs';
import type { LabState } from './state';
import { nsPrefix } from './names';
import { alive } from './procs';
import { spawnIn } from './sh';
import { createNode } from './topology';

/** A router namespace on the underlay (named after the lab, so Lab.down removes it) and its directory. */
export function addRouterNs(lab: LabState, name: string, ip: string): { ns: string; dir: string } {
  if (!/^[a-z][a-z0-9]{0,7}$/.test(name)) throw new BerthError(`invalid router name "${name}"`, { field: 'name' });
  const ns = `${nsPrefix(lab.name)}${name}`;
  createNode(lab.world, ns, name, ip, lab.underlayMtu);
  const dir = path.join(lab.dir, 'routers', name);
  fs.mkdirSync(dir, { recursive: true });
  return { ns, dir };
}

export interface RouterDaemon {
  /** who, in errors: "BIRD of r1" */
  label: string;
  ns: string;
  bin: string;
  args: string[];
  /** its stdout and stderr, appended */
  log: string;
  /** throws until the daemon answers */
  ready: () => void;
  pollMs: number;
}

/** Starts the daemon and waits (10 s at most) until it answers; its pid. */
export async function startRouterDaemon(d: RouterDaemon): Promise<number> {
  const out = fs.openSync(d.log, 'a');
  let pid: number | undefined;
  try {
    const child = spawnIn(d.ns, d.bin, d.args, { detached: true, stdio: ['ignore', out, out] });
    child.unref();
    pid = child.pid;
  } finally {
    fs.closeSync(out);
  }
  if (!pid) throw new BerthError(`could not start ${d.label}`);
  const end = Date.now() + 10_000;
  for (;;) {
    if (alive(pid)) {
      try { d.ready(); return pid; } catch { /* not yet */ }
    }
    if (!alive(pid) || Date.now() > end) throw new BerthError(`${d.label} did not start: ${(readFileIfExists(d.log) ?? '').trim().split('\n').slice(-3).join(' | ')}`);
    await new Promise((r) => setTimeout(r, d.pollMs));
  }
}
