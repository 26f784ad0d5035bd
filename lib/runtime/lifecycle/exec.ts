// exec: another process in a running container's namespaces and cgroups.
import { BerthError, ConfigError } from '../../util/errors';
import type { Process } from '../spec/types';
import { DEFAULT_ROOT } from '../state';
import type { CommonOptions } from '../status';
import type { Sys } from '../sys';
import { plans } from './modules';
import { compiledSeccomp } from './seccomp-cache';

export interface ExecOptions extends CommonOptions {
  id: string;
  process: Process;
  consoleSocket?: string;
  pidFile?: string;
  preserveFds?: number;
  stdio?: [number, number, number];
}

/** Starts a process inside a running container's namespaces and cgroups; returns its pid. */
export async function exec(opts: ExecOptions, sys: Sys): Promise<number> {
  const root = opts.root ?? DEFAULT_ROOT;
  const s = await sys.readState(root, opts.id);
  const status = await sys.status(root, s);
  if (status !== 'running' && status !== 'created') throw new BerthError(`cannot exec in a ${status} container`);
  if (opts.process.terminal && !opts.consoleSocket && !opts.stdio) throw new ConfigError('process.terminal', 'a terminal needs --console-socket');
  const consoleSock = opts.consoleSocket ? await sys.connectConsole(opts.consoleSocket) : undefined;
  try {
    const plan = plans().buildExecPlan({
      pid: s.pid, namespaces: sys.namespacesOf(s.pid, s.namespaces), process: opts.process, consoleSocketFd: consoleSock?.fd ?? -1,
      preserveFds: opts.preserveFds, stdio: opts.stdio, seccomp: compiledSeccomp(s.config.linux?.seccomp),
      setsid: opts.process.terminal, readInRoot: sys.readInRoot,
    });
    const launched = await sys.launch(plan, {
      onPid: async (p) => { if (s.cgroup) await sys.cgroups.join(s.cgroup, p); },
    });
    if (opts.pidFile) await sys.writePidFile(opts.pidFile, launched.pid);
    return launched.pid;
  } finally {
    consoleSock?.close();
  }
}
