// BIRD as a lab router (route reflector, top-of-rack): Debian's BIRD 2 in a router namespace (./router.ts),
// config, control socket and log in the router's directory.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { BerthError } from '../util/errors';
import type { LabState } from './state';
import { addRouterNs, startRouterDaemon } from './router';
import { alive } from './procs';

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

/** Adds namespace + BIRD; `conf` is the BIRD configuration (it should use `ip` as router id / local address). */
export async function startLabBird(lab: LabState, name: string, ip: string, conf: string): Promise<LabRouter> {
  if (!fs.existsSync(BIRD_BIN)) throw new BerthError(`${BIRD_BIN} not found: install Debian's bird2`);
  const { ns, dir } = addRouterNs(lab, name, ip);
  fs.writeFileSync(path.join(dir, 'bird.conf'), conf);
  return launchBird(name, ns, ip, dir, false);
}

/**
 * BIRD's own graceful restart: `birdc graceful restart` (sessions closed without Cease, kernel routes
 * kept), then `bird -R` (recovery: its kernel table is synced only once its BGP peers sent End-of-RIB or
 * `graceful restart wait` ran out). `start` runs between the two, e.g. to hold a peer back.
 */
export async function restartLabBirdGracefully(r: LabRouter, start: () => Promise<void> = async () => undefined): Promise<LabRouter> {
  r.birdc('graceful restart');
  const end = Date.now() + 10_000;
  while (alive(r.pid)) {
    if (Date.now() > end) throw new BerthError(`BIRD of ${r.name} (pid ${r.pid}) did not exit after graceful restart`);
    await new Promise((res) => setTimeout(res, 50));
  }
  await start();
  return launchBird(r.name, r.ns, r.ip, path.dirname(r.socket), true);
}

async function launchBird(name: string, ns: string, ip: string, dir: string, recover: boolean): Promise<LabRouter> {
  const file = path.join(dir, 'bird.conf');
  const socket = path.join(dir, 'bird.ctl');
  const log = path.join(dir, 'bird.log');
  const birdc = (cmd: string): string => execFileSync('birdc', ['-s', socket, ...cmd.split(' ')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const pid = await startRouterDaemon({
    label: `BIRD of ${name}`, ns, bin: BIRD_BIN, args: ['-f', '-c', file, '-s', socket, '-P', path.join(dir, 'bird.pid'), ...(recover ? ['-R'] : [])], log, pollMs: 50,
    // the socket appears before the config is parsed: ready once BIRD answers
    ready: () => { if (!fs.existsSync(socket)) throw new Error('no socket yet'); birdc('show status'); },
  });
  return { name, ns, ip, pid, socket, birdc };
}
