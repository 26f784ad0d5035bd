// runc's lifecycle commands: create, start, run, state, kill, delete, exec, ps, list, pause, resume.
import * as io from '../../util/io';
import fs = require('node:fs');
import path = require('node:path');
import { BerthError } from '../../util/errors';
import * as c from '../container';
import type { Process } from '../spec/types';
import { bool, int, list, str, type Parsed } from '../../util/command-line';
import type { Handler } from './context';
import { launchRoute } from '../launch-route';

function needId(positional: string[], cmd: string): string {
  const id = positional[0];
  if (!id) throw new BerthError(`"${cmd}" requires a container id`);
  return id;
}

function imageOptions(p: Parsed) {
  const name = str(p, 'image');
  if (!name) return undefined;
  return { name, dataRoot: str(p, 'data-root')!, args: p.positional.slice(1) };
}

function netOptions(p: Parsed) {
  const networks = list(p, 'net');
  if (!networks.length) return undefined;
  return { networks, confDir: str(p, 'cni-conf-dir'), cniPath: str(p, 'cni-path')?.split(':').filter(Boolean) };
}

/** --pod NAME: the pod's namespaces (lib/pod/join.ts); its networks are the pod's, not the container's. */
async function podOptions(p: Parsed, root: string) {
  const name = str(p, 'pod');
  if (!name) return undefined;
  if (list(p, 'net').length) throw new BerthError('a pod member uses the pod\'s networks: drop --net', { field: '--pod' });
  return (require('../../pod/join') as typeof import('../../pod/join')).podJoin(root, name);
}

/** --net, --pod or --network (with -p): what the container's network is; one of them at most. */
async function networkOptions(p: Parsed, root: string) {
  const mode = str(p, 'network');
  const publish = list(p, 'publish');
  if (!mode) {
    if (publish.length) throw new BerthError('port mapping needs --network bridge', { field: '--publish' });
    return { net: netOptions(p), join: await podOptions(p, root) };
  }
  if (list(p, 'net').length || str(p, 'pod')) throw new BerthError('give one of --network, --net and --pod', { field: '--network' });
  const m = require('../network-mode') as typeof import('../network-mode');
  return m.modeOptions(root, m.parseNetworkMode(mode), m.parsePublish(publish), str(p, 'cni-path')?.split(':').filter(Boolean));
}

export const create: Handler = async (p, g) => {
  const id = needId(p.positional, 'create');
  await c.create({
    id, root: g.root, bundle: path.resolve(io.cwd(), str(p, 'bundle') ?? '.'), pidFile: str(p, 'pid-file'),
    consoleSocket: str(p, 'console-socket'), noPivot: bool(p, 'no-pivot'), preserveFds: int(p, 'preserve-fds'),
    image: imageOptions(p), ...(await networkOptions(p, g.root)),
  });
  return 0;
};

export const start: Handler = async (p, g) => {
  await c.start(needId(p.positional, 'start'), { root: g.root });
  return 0;
};

/** Forwards the signals a foreground runtime receives to the container's process, like runc. */
function forwardSignals(pid: number): () => void {
  // launched warm, the container is the front-end's child: the front-end (the process the client signals)
  // forwards, and the server's own signals are not the container's business
  if (launchRoute()) return () => undefined;
  const sigs: NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH'];
  const handler = (sig: NodeJS.Signals) => { try { process.kill(pid, sig); } catch { /* exited */ } };
  for (const s of sigs) process.on(s, handler);
  return () => { for (const s of sigs) process.off(s, handler); };
}

export const run: Handler = async (p, g) => {
  const id = needId(p.positional, 'run');
  const opts = {
    id, root: g.root, bundle: path.resolve(io.cwd(), str(p, 'bundle') ?? '.'), pidFile: str(p, 'pid-file'),
    consoleSocket: str(p, 'console-socket'), noPivot: bool(p, 'no-pivot'), preserveFds: int(p, 'preserve-fds'),
    image: imageOptions(p), ...(await networkOptions(p, g.root)),
  };
  if (bool(p, 'detach')) {
    await c.create(opts);
    await c.start(id, { root: g.root });
    return 0;
  }
  let stop = () => undefined as void;
  try {
    return await c.run({ ...opts, keep: bool(p, 'keep'), onStarted: (pid) => { // warm, the front-end forwards its own signals: the server's are not the run's
      if (!launchRoute()) stop = forwardSignals(pid); } });
  } finally {
    stop();
  }
};

export const kill: Handler = async (p, g) => {
  const id = needId(p.positional, 'kill');
  const { parseSignal } = require('../tables/signals') as typeof import('../tables/signals');
  const signal = parseSignal(p.positional[1] ?? 'SIGTERM');
  await c.kill(id, signal, { root: g.root, all: bool(p, 'all') });
  return 0;
};

export const del: Handler = async (p, g) => {
  for (const id of p.positional.length ? p.positional : [needId(p.positional, 'delete')]) {
    await c.del(id, { root: g.root, force: bool(p, 'force') });
  }
  return 0;
};

function parseUser(spec: string, base: Process['user']): Process['user'] {
  const [u, gid] = spec.split(':');
  const uid = Number(u);
  if (!Number.isInteger(uid) || uid < 0) throw new BerthError(`invalid --user "${spec}": use uid[:gid]`);
  return { ...base, uid, gid: gid !== undefined ? Number(gid) : base.gid };
}

export const exec: Handler = async (p, g) => {
  const id = needId(p.positional, 'exec');
  const stored = await c.stored(id, { root: g.root });
  let proc: Process;
  const file = str(p, 'process');
  if (file) {
    try {
      proc = JSON.parse(fs.readFileSync(path.resolve(io.cwd(), file), 'utf8')) as Process;
    } catch (e) {
      throw new BerthError(`${(e as Error).message}`, { field: '--process' });
    }
  } else {
    const base = stored.config.process!;
    const args = p.positional.slice(1);
    if (args.length === 0) throw new BerthError('exec: no command given: pass arguments or --process');
    const caps = list(p, 'cap');
    proc = {
      ...base, args, terminal: bool(p, 'tty'), cwd: str(p, 'cwd') ?? base.cwd,
      env: [...(base.env ?? []), ...list(p, 'env')],
      user: str(p, 'user') ? parseUser(str(p, 'user')!, base.user) : base.user,
      noNewPrivileges: bool(p, 'no-new-privs') || base.noNewPrivileges,
    };
    if (caps.length && proc.capabilities) {
      const add = (set?: string[]) => [...new Set([...(set ?? []), ...caps])];
      proc.capabilities = { bounding: add(proc.capabilities.bounding), effective: add(proc.capabilities.effective), permitted: add(proc.capabilities.permitted), ambient: add(proc.capabilities.ambient), inheritable: proc.capabilities.inheritable };
    }
  }
  const pid = await c.exec({
    id, root: g.root, process: proc, consoleSocket: str(p, 'console-socket'), pidFile: str(p, 'pid-file'),
    preserveFds: int(p, 'preserve-fds'),
  });
  if (bool(p, 'detach')) return 0;
  const stop = forwardSignals(pid);
  const { code, signal } = await c.wait(pid);
  stop();
  return signal ? 128 + signal : code;
};

export const ps: Handler = async (p, g) => {
  const id = needId(p.positional, 'ps');
  const pids = await c.pids(id, { root: g.root });
  const format = str(p, 'format')!;
  if (format === 'json') {
    io.out(JSON.stringify(pids) + '\n');
    return 0;
  }
  if (format !== 'table') throw new BerthError(`invalid format option "${format}"`, { field: '--format' });
  // like runc: run ps(1) with the given options and keep the header and our processes
  const { execFileSync } = require('node:child_process') as typeof import('node:child_process');
  const out = execFileSync('ps', p.positional.length > 1 ? p.positional.slice(1) : ['-ef'], { encoding: 'utf8' });
  const lines = out.split('\n');
  const header = lines[0];
  const pidCol = header.trim().split(/\s+/).indexOf('PID');
  if (pidCol < 0) throw new BerthError('couldn\'t find PID field in ps output');
  const wanted = new Set(pids);
  io.out([header, ...lines.slice(1).filter((l) => wanted.has(Number(l.trim().split(/\s+/)[pidCol])))].join('\n') + '\n');
  return 0;
};

export const pause: Handler = async (p, g) => {
  await c.pause(needId(p.positional, 'pause'), { root: g.root });
  return 0;
};

export const resume: Handler = async (p, g) => {
  await c.resume(needId(p.positional, 'resume'), { root: g.root });
  return 0;
};
