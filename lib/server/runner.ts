// One request: decide whether the server takes it, then run the same handler the cold path runs, with
// the request's descriptors, environment and working directory (lib/util/io's router). create, run and
// exec are served with their launch routed to the front-end, so that the container is the client's
// descendant (remote-launch.ts); berth's long-running or store-owning groups go cold.
import fs = require('node:fs');
import type net = require('node:net');
import path = require('node:path');
import { AsyncLocalStorage } from 'node:async_hooks';
import { routeStdio, type Stdio } from '../util/io';
import { parseFlags, str, type Parsed } from '../util/command-line';
import { isPlugin, runPluginRequest } from './cni';
import type { Request } from './protocol';
import { routeLaunch } from '../runtime/launch-route';
import { RemoteLaunch } from './remote-launch';

export type Outcome = { type: 'exit'; status: number } | { type: 'go-cold'; reason: string };

/** runc's commands the server answers by itself (undefined: no command, the usage text). */
const SERVED: ReadonlySet<string | undefined> = new Set([
  'state', 'kill', 'delete', 'ps', 'list', 'events', 'update', 'pause', 'resume', 'features', 'spec', 'help', undefined,
]);

const requests = new AsyncLocalStorage<Stdio>();
routeStdio(() => requests.getStore());
const launches = new AsyncLocalStorage<RemoteLaunch | undefined>();
routeLaunch(() => launches.getStore());

export interface RunnerOptions {
  /** the server's --root, absolute */
  root: string;
  buildId: string | undefined;
  /** the CLI's entry (lib/runtime/cli/main.ts), handed in by it: importing it here would close a cycle */
  runCli: CliEntry;
  /** the request's connection: a warm create or run sends its plan over it */
  conn?: net.Socket;
}

export type CliEntry = (argv: string[]) => Promise<number>;

function envObject(list: string[]): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const kv of list) {
    const i = kv.indexOf('=');
    if (i > 0) env[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return env;
}

/**
 * Launched warm through the front-end (remote-launch.ts), unless the server runs with BERTH_SERVE_LAUNCH=0;
 * `start` only writes the exec fifo, so it goes with them. Console sockets stay cold: the plan would carry
 * the server's descriptor for the socket, which means nothing in the front-end that forks.
 */
const LAUNCHED = new Set(['create', 'run', 'start', 'exec']);
/** the commands among them whose launch and wait the front-end does */
const FORKED = new Set(['create', 'run', 'exec']);
const warmLaunch = (): boolean => process.env.BERTH_SERVE_LAUNCH !== '0';

function launchColdReason(name: string, argv: string[]): string | undefined {
  const rest = argv.slice(argv.indexOf(name) + 1);
  const end = rest.indexOf('--');
  const flags = end < 0 ? rest : rest.slice(0, end);
  if (flags.some((a) => /^--?console-socket(=|$)/.test(a))) return `"${name}" with a console socket runs cold`;
  return undefined;
}

/** The global flags and the command of `berth <argv>`, parsed once per request; undefined when they do not parse. */
function parseGlobals(argv: string[]): Parsed | undefined {
  try {
    const { GLOBAL_FLAGS } = require('../runtime/cli/global-flags') as typeof import('../runtime/cli/global-flags');
    return parseFlags(argv, GLOBAL_FLAGS, 'berth');
  } catch {
    return undefined; // a bad command line: the server prints the same error the cold path would
  }
}

/** create, run or exec when they are launched warm: only they route their launch and wait to the front-end. */
function launchesWarm(p: Parsed | undefined): boolean {
  const name = p?.positional[0];
  return warmLaunch() && name !== undefined && FORKED.has(name);
}

/** Why `berth <argv>` goes cold, or undefined when the server runs it. */
function coldReason(p: Parsed | undefined, argv: string[], cwd: string, root: string): string | undefined {
  if (!p) return undefined;
  const asked = path.resolve(cwd, str(p, 'root') ?? '/run/berth');
  if (asked !== root) return `--root ${asked} is not this server's (${root})`;
  const name = p.positional[0];
  if (warmLaunch() && name !== undefined && LAUNCHED.has(name)) return launchColdReason(name, argv);
  if (!SERVED.has(name)) return `"${name}" runs cold`;
  return undefined;
}

/** The request's fd for client fd `target`, or /dev/null when the client passed none. */
function fdFor(req: Request, fds: number[], target: number, opened: number[], flags: string): number {
  const i = req.targetFds.indexOf(target);
  if (i >= 0) return fds[i];
  const fd = fs.openSync('/dev/null', flags);
  opened.push(fd);
  return fd;
}

export async function runRequest(req: Request, fds: number[], opts: RunnerOptions): Promise<Outcome> {
  if (opts.buildId === undefined) return { type: 'go-cold', reason: 'the server has no build id (dist/build-id)' };
  if (req.buildId !== opts.buildId) return { type: 'go-cold', reason: `build id ${req.buildId}, server is ${opts.buildId}` };
  const berth = req.program === 'berth';
  if (!berth && !isPlugin(req.program)) return { type: 'go-cold', reason: `program "${req.program}" is not served` };
  if (!path.isAbsolute(req.cwd)) return { type: 'go-cold', reason: `cwd "${req.cwd}" is not absolute` };
  const parsed = berth ? parseGlobals(req.argv) : undefined;
  if (berth) {
    const reason = coldReason(parsed, req.argv, req.cwd, opts.root);
    if (reason) return { type: 'go-cold', reason };
  }
  const opened: number[] = [];
  try {
    const stdio: Stdio = {
      in: fdFor(req, fds, 0, opened, 'r'), out: fdFor(req, fds, 1, opened, 'w'), err: fdFor(req, fds, 2, opened, 'w'),
      env: envObject(req.env), cwd: req.cwd,
    };
    const silence = () => {
      const fd = fs.openSync('/dev/null', 'w');
      opened.push(fd);
      stdio.out = stdio.err = fd;
    };
    const remote = opts.conn !== undefined && berth && launchesWarm(parsed) ? new RemoteLaunch(opts.conn, silence) : undefined;
    const status = await requests.run(stdio, () => launches.run(remote, () => berth
      ? opts.runCli(req.argv)
      : runPluginRequest(req.program, stdio)));
    if (remote?.cold) return { type: 'go-cold', reason: remote.cold };
    return { type: 'exit', status };
  } finally {
    for (const fd of opened) fs.closeSync(fd);
  }
}
