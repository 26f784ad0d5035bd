// `berth`: runc's command line. Global flags, then a command; each command module loads only on use.
import path = require('node:path');
import * as io from './io';
import { BerthError } from '../../util/errors';
import { bool, parseFlags, str } from './args';
import type { Command, Globals } from './context';
import { Logger, type LogFormat } from './log';

const VERSION = '0.1.0';

/**
 * The lifecycle commands load most of the runtime: from its one-file bundle (dist/cli/lifecycle.js, made
 * by `npm run build:bundles`) with a V8 code cache per command while the bundle is fresh, else from tsc's
 * output (lib/util/bundle.ts). state and list stay light and never load it.
 */
const LIFECYCLE_COMMANDS: ReadonlySet<string> = new Set(['create', 'start', 'run', 'kill', 'delete', 'exec', 'ps', 'pause', 'resume']);

function lifecycle(command: string): typeof import('./lifecycle') {
  const { freshness, inputsOf, requireBundle } = require('../../util/bundle') as typeof import('../../util/bundle');
  const file = path.join(__dirname, '..', '..', '..', 'cli', 'lifecycle.js');
  const mtime = freshness(file, inputsOf(file));
  if (mtime === undefined) return require('./lifecycle');
  return requireBundle(file, mtime, command, LIFECYCLE_COMMANDS) as typeof import('./lifecycle');
}

const COMMANDS: Record<string, () => Command> = {
  create: () => lifecycle('create').create,
  start: () => lifecycle('start').start,
  run: () => lifecycle('run').run,
  state: () => require('./query').state,
  kill: () => lifecycle('kill').kill,
  delete: () => lifecycle('delete').del,
  exec: () => lifecycle('exec').exec,
  ps: () => lifecycle('ps').ps,
  list: () => require('./query').listCmd,
  pause: () => lifecycle('pause').pause,
  resume: () => lifecycle('resume').resume,
  spec: () => require('./info').spec,
  features: () => require('./info').features,
  events: () => require('./info').events,
  update: () => require('./info').update,
  // berth's own commands beyond runc's
  image: () => require('./image').image,
  agent: () => require('../../cni/agent/cli').agentCommand,
  lab: () => require('../../lab/cli').labCommand,
  bgp: () => require('../../cni/bgp/cli').bgpCommand,
};

const USAGE = `berth ${VERSION}: an OCI container runtime with runc's command line

usage: berth [global options] COMMAND [options] [arguments]

commands: ${Object.keys(COMMANDS).join(', ')}
global options: --root DIR (default /run/berth), --log FILE, --log-format text|json, --debug, --version
`;

export async function main(argv: string[]): Promise<number> {
  let log = new Logger(undefined, 'text', false);
  try {
    const p = parseFlags(argv, {
      root: { value: true }, log: { value: true }, 'log-format': { value: true }, debug: { value: false },
      'systemd-cgroup': { value: false }, version: { value: false, alias: 'v' }, help: { value: false, alias: 'h' },
      criu: { value: true }, rootless: { value: true },
    }, 'berth');
    const format = (str(p, 'log-format') ?? 'text') as LogFormat;
    if (format !== 'text' && format !== 'json') throw new BerthError(`invalid log format "${format}"`, { field: '--log-format' });
    log = new Logger(str(p, 'log'), format, bool(p, 'debug'));
    if (bool(p, 'version')) {
      io.out(`berth version ${VERSION}\nspec: 1.2.0\n`);
      return 0;
    }
    if (bool(p, 'systemd-cgroup')) throw new BerthError('systemd cgroup driver is not supported by berth: use cgroupfs paths', { field: '--systemd-cgroup' });
    const [name, ...rest] = p.positional;
    if (!name || bool(p, 'help') || name === 'help') {
      io.out(USAGE);
      return name || bool(p, 'help') ? 0 : 1;
    }
    const load = COMMANDS[name];
    if (!load) throw new BerthError(`No help topic for '${name}'`);
    const g: Globals = { root: str(p, 'root') ?? '/run/berth', log, debug: bool(p, 'debug') };
    log.debug(`${name} ${rest.join(' ')}`);
    return await load()(rest, g);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    log.error(msg);
    io.err(`berth: ${msg}\n`);
    return 1;
  }
}
