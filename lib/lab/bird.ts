// BIRD as a lab router (route reflector, top-of-rack): Debian's BIRD 2 in a router namespace (./router.ts),
// config, control socket and log in the router's directory.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { BerthError } from '../util/errors';
import type { LabState } from './state';
import { addRouterNs, startRouterDaemon } from './router';

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
  const file = path.join(dir, 'bird.conf');
  const socket = path.join(dir, 'bird.ctl');
  const log = path.join(dir, 'bird.log');
  fs.writeFileSync(file, conf);
  const birdc = (cmd: string): string => execFileSync('birdc', ['-s', socket, ...cmd.split(' ')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const pid = await startRouterDaemon({
    label: `BIRD of ${name}`, ns, bin: BIRD_BIN, args: ['-f', '-c', file, '-s', socket, '-P', path.join(dir, 'bird.pid')], log, pollMs: 50,
    // the socket appears before the config is parsed: ready once BIRD answers
    ready: () => { if (!fs.existsSync(socket)) throw new Error('no socket yet'); birdc('show status'); },
  });
  return { name, ns, ip, pid, socket, birdc };
}
