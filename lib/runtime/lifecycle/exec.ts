// exec: another process in a running container's namespaces and cgroups.
import * as fs from 'node:fs';
import { BerthError, ConfigError } from '../../util/errors';
import type { NamespaceType, Process } from '../spec/types';
import { DEFAULT_ROOT } from '../state';
import type { CommonOptions } from '../status';
import type { Sys } from '../sys';
import { connectConsoleSocket, socketFd } from './console-socket';
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

const NS_FILE: Partial<Record<NamespaceType, string>> = { network: 'net', mount: 'mnt' };

/** Starts a process inside a running container's namespaces and cgroups; returns its pid. */
export async function exec(opts: ExecOptions, sys: Sys): Promise<number> {
  const root = opts.root ?? DEFAULT_ROOT;
  const s = await sys.readState(root, opts.id);
  const status = await sys.status(root, s);
  if (status !== 'running' && status !== 'created') throw new BerthError(`cannot exec in a ${status} container`);
  if (opts.process.terminal && !opts.consoleSocket && !opts.stdio) throw new ConfigError('process.terminal', 'a terminal needs --console-socket');
  const consoleSock = opts.consoleSocket ? await connectConsoleSocket(opts.consoleSocket) : undefined;
  try {
    const joinable = s.namespaces.filter((t) => fs.existsSync(`/proc/${s.pid}/ns/${NS_FILE[t] ?? t}`));
    const plan = plans().buildExecPlan({
      pid: s.pid, namespaces: joinable, process: opts.process, consoleSocketFd: consoleSock ? socketFd(consoleSock) : -1,
      preserveFds: opts.preserveFds, stdio: opts.stdio, seccomp: compiledSeccomp(s.config.linux?.seccomp),
      setsid: opts.process.terminal,
    });
    const launched = await sys.launch(plan, {
      onPid: async (p) => { if (s.cgroup) await sys.cgroups.join(s.cgroup, p); },
    });
    if (opts.pidFile) await sys.writePidFile(opts.pidFile, launched.pid);
    return launched.pid;
  } finally {
    consoleSock?.destroy();
  }
}
