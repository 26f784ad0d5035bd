// A router of the lab (route reflector, top-of-rack): its own namespace "bl-<lab>-<name>" attached to the
// underlay bridge like a node, running Debian's BIRD 2 with config, control socket and log in the lab
// directory. Lab.down removes it like every lab namespace (processes by namespace, then the namespace).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { BerthError } from '../util/errors';
import { readFileIfExists } from '../util/fs';
import type { LabState } from './state';
import { nsPrefix } from './names';
import { alive } from './procs';
import { spawnIn } from './sh';
import { createNode } from './topology';

export const BIRD_BIN = process.env.BERTH_BIRD ?? '/usr/sbin/bird';

export interface LabRouter {
  name: string;
  ns: string;
  ip: string;
  pid: number;
  socket: string;
  /** runs a birdc command against this BIRD, returns its output */
  birdc(cmd: string): string;
}

/** A router namespace on the underlay (named after the lab, so Lab.down removes it) and its directory. */
export function addRouterNs(lab: LabState, name: string, ip: string): { ns: string; dir: string } {
  if (!/^[a-z][a-z0-9]{0,7}$/.test(name)) throw new BerthError(`invalid router name "${name}"`, { field: 'name' });
  const ns = `${nsPrefix(lab.name)}${name}`;
  createNode(lab.world, ns, name, ip, lab.underlayMtu);
  const dir = path.join(lab.dir, 'routers', name);
  fs.mkdirSync(dir, { recursive: true });
  return { ns, dir };
}

/** Adds namespace + BIRD; `conf` is the BIRD configuration (it should use `ip` as router id / local address). */
export async function startLabBird(lab: LabState, name: string, ip: string, conf: string): Promise<LabRouter> {
  if (!fs.existsSync(BIRD_BIN)) throw new BerthError(`${BIRD_BIN} not found: install Debian's bird2`);
  const { ns, dir } = addRouterNs(lab, name, ip);
  const file = path.join(dir, 'bird.conf');
  const socket = path.join(dir, 'bird.ctl');
  const log = path.join(dir, 'bird.log');
  fs.writeFileSync(file, conf);
  const out = fs.openSync(log, 'a');
  let pid: number | undefined;
  try {
    const child = spawnIn(ns, BIRD_BIN, ['-f', '-c', file, '-s', socket, '-P', path.join(dir, 'bird.pid')], { detached: true, stdio: ['ignore', out, out] });
    child.unref();
    pid = child.pid;
  } finally {
    fs.closeSync(out);
  }
  if (!pid) throw new BerthError(`could not start BIRD for ${name}`);
  const birdc = (cmd: string): string => execFileSync('birdc', ['-s', socket, ...cmd.split(' ')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const end = Date.now() + 10_000;
  for (;;) {
    // the socket appears before the config is parsed: ready once BIRD answers
    if (fs.existsSync(socket) && alive(pid)) {
      try { birdc('show status'); break; } catch { /* not yet */ }
    }
    if (!alive(pid) || Date.now() > end) throw new BerthError(`BIRD of ${name} did not start: ${(readFileIfExists(log) ?? '').trim().split('\n').slice(-3).join(' | ')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { name, ns, ip, pid, socket, birdc };
}
