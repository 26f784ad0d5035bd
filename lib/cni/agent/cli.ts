// `berth agent run [flags]` (the daemon, in the foreground) and `berth agent status [--run-dir DIR]`.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Globals } from '../../runtime/cli/context';
import { parseFlags, str } from '../../runtime/cli/args';
import { BerthError } from '../../util/errors';
import { DEFAULT_RUN_DIR } from './config';
import type { AgentStatus } from './settings';

const USAGE = `usage: berth agent run [--node NAME] [--iface IF] [--public-ip IP] [--network CIDR] [--subnet-len N]
                       [--backend vxlan|bgp] [--bgp-asn N] [--bgp-peer ADDR@ASN] [--network6 CIDR] [--subnet-len6 N]
                       [--vni N] [--port N] [--store embedded|etcd] [--store-dir DIR]
                       [--etcd-endpoints URL,...] [--etcd-prefix /P] [--ttl SECONDS] [--interval SECONDS]
                       [--data-dir DIR] [--run-dir DIR] [--log FILE] [--debug]
       berth agent status [--run-dir DIR]
`;

export async function agentCommand(argv: string[], _g: Globals): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === 'run') return run(rest);
  if (sub === 'status') return status(rest);
  if (sub === undefined || sub === 'help' || sub === '--help' || sub === '-h') {
    process.stdout.write(USAGE);
    return sub === undefined ? 1 : 0;
  }
  throw new BerthError(`unknown agent command "${sub}" (want run or status)`, { field: 'berth agent' });
}

async function run(argv: string[]): Promise<number> {
  const { parseAgentConfig } = await import('./config');
  const { JsonLog } = await import('./log');
  const { Agent } = await import('./daemon');
  const cfg = parseAgentConfig(argv);
  const log = new JsonLog(cfg.logFile, cfg.debug);
  const agent = await Agent.create(cfg, log);
  try {
    await agent.start();
  } catch (e) {
    log.error('agent failed to start', { error: (e as Error).message });
    await agent.stop(false).catch(() => undefined);
    throw e;
  }
  return new Promise<number>((resolve) => {
    const stop = (sig: string): void => {
      log.info('signal received, shutting down', { signal: sig });
      agent.stop(true).then(() => resolve(0), () => resolve(1));
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Prints the status JSON with `healthy`; exits 0 when the agent runs and reconciled recently. */
async function status(argv: string[]): Promise<number> {
  const p = parseFlags(argv, { 'run-dir': { value: true } }, 'berth agent status');
  const file = path.join(path.resolve(str(p, 'run-dir') ?? DEFAULT_RUN_DIR), 'status.json');
  let s: AgentStatus;
  try {
    s = JSON.parse(fs.readFileSync(file, 'utf8')) as AgentStatus;
  } catch (e) {
    throw new BerthError(`no agent status at ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { field: '--run-dir' });
  }
  const running = alive(s.pid);
  const fresh = Date.now() - Date.parse(s.updatedAt) < Math.max(3 * s.intervalMs, 3000);
  const healthy = running && fresh && !s.lastError;
  process.stdout.write(JSON.stringify({ ...s, running, healthy }, null, 2) + '\n');
  return healthy ? 0 : 1;
}
