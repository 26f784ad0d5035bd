// `berth agent run [flags]` (the daemon, in the foreground), `berth agent status|restart|leave [--run-dir DIR]`.
// `run` loads its flag table (./agent-config, with the agent's network modules) only when it is used.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { str, type Command, type Group } from '../../util/command-line';
import { spawn } from 'node:child_process';
import { BerthError } from '../../util/errors';
import type { StopMode } from './daemon';
import { DEFAULT_RUN_DIR, STATUS_FILE, type AgentStatus } from './settings';

function runCommand(): Command<unknown> {
  const { AGENT_FLAGS, agentConfig } = require('./agent-config') as typeof import('./agent-config');
  return {
    summary: 'run the agent in the foreground; SIGTERM stops it hitlessly (lease, routes and BGP graceful restart kept for the next run), SIGINT makes the node leave (lease released)',
    flags: AGENT_FLAGS,
    interspersed: true,
    async run(p) {
      (require('./heap-tuning') as typeof import('./heap-tuning')).tuneHeapForTable();
      const { JsonLog } = await import('./log');
      const { Agent } = await import('./daemon');
      const cfg = agentConfig(p);
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
        let stopping = false;
        const stop = (mode: StopMode, why: string, respawn = false): void => {
          if (stopping) return;
          stopping = true;
          log.info('shutting down', { why, mode });
          agent.stop(mode).then(() => {
            // `berth agent restart` without a supervisor: the next run starts once this one has let go
            if (respawn) spawn(process.execPath, process.argv.slice(1), { detached: true, stdio: 'inherit' }).unref();
            resolve(0);
          }, () => resolve(1));
        };
        agent.onStopRequest = (mode) => stop(mode, `control socket: ${mode}`, mode === 'restart');
        process.once('SIGTERM', () => stop('restart', 'SIGTERM'));
        process.once('SIGINT', () => stop('leave', 'SIGINT'));
      });
    },
  };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const status: Command<unknown> = {
  summary: 'print the agent\'s status JSON with "healthy"; exit 0 when it runs and reconciled recently',
  flags: { 'run-dir': { value: true, arg: 'DIR', default: DEFAULT_RUN_DIR, help: 'the agent\'s --run-dir' } },
  interspersed: true,
  async run(p) {
    if (p.positional.length) throw new BerthError(`unexpected argument "${p.positional[0]}"`, { field: 'berth agent status' });
    const file = path.join(path.resolve(str(p, 'run-dir')!), STATUS_FILE);
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
  },
};

function controlCommand(cmd: 'restart' | 'leave', summary: string): Command<unknown> {
  return {
    summary,
    flags: { 'run-dir': { value: true, arg: 'DIR', default: DEFAULT_RUN_DIR, help: 'the agent\'s --run-dir' } },
    interspersed: true,
    async run(p) {
      if (p.positional.length) throw new BerthError(`unexpected argument "${p.positional[0]}"`, { field: `berth agent ${cmd}` });
      const { askAgent } = await import('./control/client');
      process.stdout.write(JSON.stringify(await askAgent(path.resolve(str(p, 'run-dir')!), cmd)) + '\n');
      return 0;
    },
  };
}

/** `berth agent COMMAND`, as the berth command table runs it. */
export const agentGroup: Group<unknown> = {
  summary: 'the per-node network agent: subnet leases, VXLAN peers, BGP',
  flags: {},
  commands: () => ({
    run: { load: runCommand },
    status,
    restart: controlCommand('restart', 'restart the running agent hitlessly: the lease, kernel routes, FDB and neighbours stay; BGP restarts gracefully'),
    leave: controlCommand('leave', 'stop the running agent and release its lease (the node leaves the cluster)'),
  }),
  enter: (_p, ctx) => ctx,
};
