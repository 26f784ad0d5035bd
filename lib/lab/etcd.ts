// Debian's etcd-server inside the lab's world namespace, listening only on the world's underlay address,
// data in the lab directory; stopped by PID.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BerthError } from '../util/errors';
import { readFileIfExists } from '../util/fs';
import { alive } from './procs';
import { runIn, spawnIn } from './sh';
import { WORLD_IP } from './names';

export const ETCD_BIN = process.env.BERTH_ETCD ?? '/usr/bin/etcd';

export interface EtcdProc { pid: number; endpoint: string; dataDir: string; log: string }

export async function startEtcd(world: string, dir: string): Promise<EtcdProc> {
  if (!fs.existsSync(ETCD_BIN)) throw new BerthError(`${ETCD_BIN} not found: install Debian's etcd-server`, { field: '--store' });
  const dataDir = path.join(dir, 'etcd');
  const log = path.join(dir, 'etcd.log');
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const client = `http://${WORLD_IP}:2379`;
  const peer = `http://${WORLD_IP}:2380`;
  const out = fs.openSync(log, 'a');
  let pid: number | undefined;
  try {
    const child = spawnIn(world, ETCD_BIN, [
      '--name', 'lab', '--data-dir', dataDir, '--listen-client-urls', client, '--advertise-client-urls', client,
      '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer, '--initial-cluster', `lab=${peer}`,
      '--log-level', 'warn',
    ], { detached: true, stdio: ['ignore', out, out] });
    child.unref();
    pid = child.pid;
  } finally {
    fs.closeSync(out);
  }
  if (!pid) throw new BerthError('could not start etcd');
  await waitHealthy(world, client, pid, log);
  return { pid, endpoint: client, dataDir, log };
}

/** Asks /health from inside the world namespace (the caller's namespace cannot reach the lab). */
async function waitHealthy(world: string, endpoint: string, pid: number, log: string): Promise<void> {
  const probe = `require('http').get('${endpoint}/health', (r) => { let d = ''; r.on('data', (x) => d += x); r.on('end', () => process.exit(/"true"/.test(d) ? 0 : 1)); }).on('error', () => process.exit(1)).setTimeout(1000, () => process.exit(1));`;
  const end = Date.now() + 20_000;
  while (Date.now() < end) {
    if (!alive(pid)) break;
    if (runIn(world, process.execPath, ['-e', probe]).status === 0) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  const tail = (readFileIfExists(log) ?? '').trim().split('\n').slice(-3).join(' | ');
  throw new BerthError(`etcd did not become healthy at ${endpoint}${tail ? `: ${tail}` : ''}`);
}
