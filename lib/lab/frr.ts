// FRR's bgpd as a lab router: its own namespace on the underlay, no zebra (routes stay in bgpd's RIB, the
// lab's kernel is not its business), no runas, vty socket and config in the lab directory, listening only
// on its lab address, in a router namespace (./router.ts).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { BerthError } from '../util/errors';
import type { LabState } from './state';
import { addRouterNs, startRouterDaemon } from './router';

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
  const vtysh = (cmd: string): string => execFileSync('vtysh', ['--vty_socket', dir, '-d', 'bgpd', '-c', cmd], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const pid = await startRouterDaemon({
    label: `bgpd of ${name}`, ns, bin: BGPD_BIN, log, pollMs: 100, ready: () => { vtysh('show version'); },
    args: ['-f', file, '-i', path.join(dir, 'bgpd.pid'), '--vty_socket', dir, '-Z', '-S', '-l', ip, '-P', '0', '--log', 'stdout'],
  });
  return { ns, pid, vtysh };
}
