// Starting and stopping a node's `berth agent` inside the node's namespace, detached (it outlives
// `berth lab up`), logging JSON lines to a file, and waiting until it has leased a subnet.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BerthError } from '../util/errors';
import { readFileIfExists } from '../util/fs';
import type { NodeSettings } from '../cni/agent/settings';
import type { LabNodeState, LabState } from './state';
import { spawnIn } from './sh';
import { alive, stopPids } from './procs';
import { WORLD_IP } from './names';
import { routerAgentArgs } from './router-conf';
import { scaled } from './time-scale';

/** bin/berth of this checkout (dist/lib/lab -> repo root). */
export const BERTH_BIN = path.resolve(__dirname, '..', '..', '..', 'bin', 'berth');

export function agentArgs(lab: LabState, node: LabNodeState): string[] {
  const args = [
    'agent', 'run', '--node', node.name, '--iface', 'eth0', '--network', lab.cidr, '--subnet-len', String(lab.subnetLen),
    '--backend', lab.network, '--vni', String(lab.vni), '--port', String(lab.port), '--ttl', String(lab.ttlS),
    '--interval', String(lab.intervalS), '--data-dir', node.dataDir, '--run-dir', node.runDir, '--log', node.agentLog,
  ];
  if (lab.store === 'etcd') args.push('--store', 'etcd', '--etcd-endpoints', `http://${WORLD_IP}:2379`, '--etcd-prefix', `/berth/${lab.name}`);
  else args.push('--store', 'embedded', '--store-dir', lab.storeDir);
  if (lab.agentArgs) args.push(...lab.agentArgs);
  args.push(...routerAgentArgs(lab));
  return args;
}

/** Starts the agent and returns its PID (not waiting for it to be ready). */
export function spawnAgent(lab: LabState, node: LabNodeState, extra: string[] = []): number {
  fs.mkdirSync(path.dirname(node.agentLog), { recursive: true });
  const err = fs.openSync(`${node.agentLog}.stderr`, 'a');
  try {
    const child = spawnIn(node.ns, process.execPath, [BERTH_BIN, ...agentArgs(lab, node), ...extra], { detached: true, stdio: ['ignore', err, err] });
    child.unref();
    if (!child.pid) throw new BerthError(`could not start the agent of ${node.name}`);
    return child.pid;
  } finally {
    fs.closeSync(err);
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Waits until the agent wrote its settings and status; fails early, with its stderr, when it died. */
export async function waitAgentReady(node: LabNodeState, pid: number, timeoutMs = scaled(20_000)): Promise<NodeSettings> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const status = readFileIfExists(path.join(node.runDir, 'status.json'));
    const settings = readFileIfExists(path.join(node.runDir, 'subnet.json'));
    if (status && settings && (JSON.parse(status) as { pid: number }).pid === pid) return JSON.parse(settings) as NodeSettings;
    if (!alive(pid) || Date.now() > end) {
      const why = (readFileIfExists(`${node.agentLog}.stderr`) ?? '').trim().split('\n').slice(-3).join(' | ');
      throw new BerthError(`agent of ${node.name} ${alive(pid) ? 'not ready in time' : 'exited'}${why ? `: ${why}` : ''}`);
    }
    await sleep(50);
  }
}

export async function stopAgent(pid: number | undefined, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (pid !== undefined) await stopPids([pid], scaled(5000), signal);
}
