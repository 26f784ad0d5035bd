// FRR's bgpd as a lab router: its own namespace on the underlay, no zebra (routes stay in bgpd's RIB, the
// lab's kernel is not its business), no runas, vty socket and config in the lab directory, listening only
// on its lab address. Lab.down removes it with the namespace.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { BerthError } from '../util/errors';
import { readFileIfExists } from '../util/fs';
import type { LabState } from './state';
import { addRouterNs } from './bird';
import { alive } from './procs';
import { spawnIn } from './sh';

export const BGPD_BIN = process.env.BERTH_FRR_BGPD ?? '/usr/lib/frr/bgpd';

export interface LabFrr {
  ns: string;
  pid: number;
  /** runs one vtysh command against this bgpd */
  vtysh(cmd: string): string;
}

export async function startLabFrr(lab: LabState, name: string, ip: string, conf: string): Promise<LabFrr> {
  if (!fs.existsSync(BGPD_BIN)) throw new BerthError(`${BGPD_BIN} not found: install Debian's frr`);
  const { ns, dir } = addRouterNs(lab, name, ip);
  const file = path.join(dir, 'bgpd.conf');
  const log = path.join(dir, 'bgpd.log');
  fs.writeFileSync(file, conf);
  const out = fs.openSync(log, 'a');
  let pid: number | undefined;
  try {
    const child = spawnIn(ns, BGPD_BIN, ['-f', file, '-i', path.join(dir, 'bgpd.pid'), '--vty_socket', dir, '-Z', '-S', '-l', ip, '-P', '0', '--log', 'stdout'], { detached: true, stdio: ['ignore', out, out] });
    child.unref();
    pid = child.pid;
  } finally {
    fs.closeSync(out);
  }
  if (!pid) throw new BerthError(`could not start FRR bgpd for ${name}`);
  const vtysh = (cmd: string): string => execFileSync('vtysh', ['--vty_socket', dir, '-d', 'bgpd', '-c', cmd], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const end = Date.now() + 10_000;
  for (;;) {
    if (alive(pid)) {
      try { vtysh('show version'); break; } catch { /* not yet */ }
    }
    if (!alive(pid) || Date.now() > end) throw new BerthError(`bgpd of ${name} did not start: ${(readFileIfExists(log) ?? '').trim().split('\n').slice(-3).join(' | ')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { ns, pid, vtysh };
}
