// `berth`: runc's command line. The command table: every command's flags (name, type, default, help), its
// arguments and its handler; the parser and --help both read it. Handlers load on use. bin/berth runs this
// from the CLI bundle (lib/runtime/cli/entry.ts); berth's heavy groups (agent, bgp, lab, image, install,
// serve) stay outside it and load from tsc's output.
import path = require('node:path');
import * as io from '../../util/io';
import { BerthError } from '../../util/errors';
import { bool, dispatch, parseFlags, printUsage, str, type Command, type Entry, type FlagSpec, type Group } from '../../util/command-line';
import type { Globals } from './context';
import { GLOBAL_FLAGS } from './global-flags';
import { Logger, type LogFormat } from './log';

const VERSION = '0.1.0';

// in the CLI bundle (dist/cli/berth.js) the handlers are bundled too, and still run only on use
const lifecycle = (): typeof import('./lifecycle') => require('./lifecycle');

export { GLOBAL_FLAGS };

const PRESERVE_FDS = { value: true, arg: 'N', default: '0', help: 'pass N additional file descriptors to the container (stdio + $LISTEN_FDS + N in total)' };
const PID_FILE = { value: true, arg: 'FILE', help: 'write the process id to FILE' };
const CONSOLE_SOCKET = { value: true, arg: 'PATH', help: 'AF_UNIX socket that receives the master end of the console\'s pseudoterminal' };
const FORMAT = { value: true, alias: 'f', arg: 'table|json', default: 'table', help: 'output format' };

export const CREATE_FLAGS: FlagSpec = {
  bundle: { value: true, alias: 'b', arg: 'DIR', help: 'path to the root of the bundle directory (default: the current directory)' },
  'console-socket': CONSOLE_SOCKET,
  'pid-file': PID_FILE,
  'no-pivot': { value: false, help: 'do not use pivot_root to jail the process inside the rootfs (for a rootfs on a ramdisk)' },
  'no-new-keyring': { value: false, help: 'do not create a new session keyring for the container' },
  'preserve-fds': PRESERVE_FDS,
  net: { value: true, repeat: true, arg: 'NETWORK', help: 'attach the container to this CNI network (a conflist name or file)' },
  'cni-path': { value: true, arg: 'DIRS', help: 'colon-separated directories of CNI plugins' },
  'cni-conf-dir': { value: true, arg: 'DIR', help: 'directory of CNI network configurations' },
  image: { value: true, arg: 'NAME', help: 'start from this image of the OverlayFS store; arguments after the id replace its Cmd' },
  'data-root': { value: true, arg: 'DIR', default: '/var/lib/berth', help: 'the image store, with --image' },
  pod: { value: true, arg: 'NAME', help: 'join the namespaces of this pod (berth pod create)' },
  network: { value: true, arg: 'MODE', help: 'bridge (berth0, made in the caller\'s network namespace), host, none or container:ID' },
  publish: { value: true, repeat: true, alias: 'p', arg: 'HOST:CONTAINER[/proto]', help: 'map a host port to the container (--network bridge)' },
};

const ID = '<container-id>';

type Cmd = Command<Globals>;

const create: Cmd = {
  summary: 'create a container', args: ID, flags: CREATE_FLAGS,
  run: (p, g) => lifecycle().create(p, g),
};
const start: Cmd = {
  summary: 'execute the user-defined process in a created container', args: ID, flags: {},
  run: (p, g) => lifecycle().start(p, g),
};
const run: Cmd = {
  summary: 'create and run a container', args: `${ID} [args... with --image]`,
  flags: {
    ...CREATE_FLAGS,
    detach: { value: false, alias: 'd', help: 'detach from the container\'s process' },
    keep: { value: false, help: 'do not delete the container after it exits' },
  },
  run: (p, g) => lifecycle().run(p, g),
};
const state: Cmd = {
  summary: 'output the state of a container', args: ID, flags: {},
  run: (p, g) => (require('./query') as typeof import('./query')).state(p, g),
};
const kill: Cmd = {
  summary: 'send a signal (default: SIGTERM) to the container\'s init process', args: `${ID} [signal]`,
  flags: { all: { value: false, alias: 'a', help: 'send the signal to every process of the container\'s cgroup' } },
  run: (p, g) => lifecycle().kill(p, g),
};
const del: Cmd = {
  summary: 'delete any resources held by the container', args: `${ID}...`,
  flags: { force: { value: false, alias: 'f', help: 'delete the container even if it is still running (SIGKILL)' } },
  run: (p, g) => lifecycle().del(p, g),
};
const exec: Cmd = {
  summary: 'execute a new process inside the container', args: `${ID} <command> [args...] | -p process.json ${ID}`,
  flags: {
    'console-socket': CONSOLE_SOCKET,
    cwd: { value: true, arg: 'DIR', help: 'current working directory in the container' },
    env: { value: true, repeat: true, alias: 'e', arg: 'KEY=VALUE', help: 'set an environment variable' },
    tty: { value: false, alias: 't', help: 'allocate a pseudo-TTY' },
    user: { value: true, alias: 'u', arg: 'UID[:GID]', help: 'the user to run as' },
    'additional-gids': { value: true, repeat: true, alias: 'g', arg: 'GID', help: 'accepted for runc compatibility, unused' },
    process: { value: true, alias: 'p', arg: 'FILE', help: 'path to the process.json' },
    detach: { value: false, alias: 'd', help: 'detach from the container\'s process' },
    'pid-file': PID_FILE,
    'process-label': { value: true, help: 'accepted for runc compatibility, unused (no SELinux)' },
    apparmor: { value: true, help: 'accepted for runc compatibility, unused (no AppArmor)' },
    'no-new-privs': { value: false, help: 'set the no new privileges value for the process' },
    cap: { value: true, repeat: true, alias: 'c', arg: 'CAP', help: 'add a capability to the process\'s sets' },
    'preserve-fds': PRESERVE_FDS,
    cgroup: { value: true, repeat: true, help: 'accepted for runc compatibility, unused' },
    'ignore-paused': { value: false, help: 'accepted for runc compatibility, unused' },
  },
  run: (p, g) => lifecycle().exec(p, g),
};
const ps: Cmd = {
  summary: 'display the processes running inside a container', args: `${ID} [ps options]`,
  flags: { format: FORMAT },
  run: (p, g) => lifecycle().ps(p, g),
};
const list: Cmd = {
  summary: 'list the containers under --root', flags: { format: FORMAT, quiet: { value: false, alias: 'q', help: 'display only container IDs' } },
  run: (p, g) => (require('./query') as typeof import('./query')).listCmd(p, g),
};
const pause: Cmd = {
  summary: 'suspend every process inside the container', args: ID, flags: {},
  run: (p, g) => lifecycle().pause(p, g),
};
const resume: Cmd = {
  summary: 'resume every process that was paused', args: ID, flags: {},
  run: (p, g) => lifecycle().resume(p, g),
};
const info = (): typeof import('./info') => require('./info');
const spec: Cmd = {
  summary: 'create a new specification file (config.json)',
  flags: {
    bundle: { value: true, alias: 'b', arg: 'DIR', help: 'path to the root of the bundle directory (default: the current directory)' },
    rootless: { value: false, help: 'generate a configuration for a rootless container' },
  },
  run: (p, g) => info().spec(p, g),
};
const features: Cmd = {
  summary: 'show the enabled features', flags: {},
  run: (p, g) => info().features(p, g),
};
const events: Cmd = {
  summary: 'display container events: OOM notifications, cpu, memory and IO usage statistics', args: ID,
  flags: {
    interval: { value: true, arg: 'DURATION', default: '5s', help: 'the stats collection interval' },
    stats: { value: false, help: 'display the container\'s stats, then exit' },
  },
  run: (p, g) => info().events(p, g),
};
const update: Cmd = {
  summary: 'update container resource constraints', args: ID,
  flags: {
    resources: { value: true, alias: 'r', arg: 'FILE', help: 'a LinuxResources JSON file to apply, or - for stdin (other options are then ignored)' },
    'blkio-weight': { value: true, help: 'per-cgroup block IO weight, from 10 to 1000' },
    'cpu-period': { value: true, help: 'CPU CFS period for hardcapping (in usecs); 0 for the system default' },
    'cpu-quota': { value: true, help: 'CPU CFS hardcap limit (in usecs): allowed CPU time in a given period' },
    'cpu-shares': { value: true, alias: 'cpu-share', help: 'CPU shares (relative weight vs. other containers)' },
    'cpu-burst': { value: true, help: 'CPU CFS burst (in usecs)' },
    'cpu-rt-period': { value: true, help: 'CPU realtime period for hardcapping (in usecs); 0 for the system default' },
    'cpu-rt-runtime': { value: true, help: 'CPU realtime hardcap limit (in usecs)' },
    'cpuset-cpus': { value: true, help: 'CPU(s) to use' },
    'cpuset-mems': { value: true, help: 'memory node(s) to use' },
    memory: { value: true, help: 'memory limit (bytes, or with a unit: 512m, 1g)' },
    'memory-reservation': { value: true, help: 'memory reservation or soft limit (bytes, or with a unit)' },
    'memory-swap': { value: true, help: 'total memory usage (memory + swap); -1 for unlimited swap' },
    'pids-limit': { value: true, help: 'maximum number of pids allowed in the container' },
    'kernel-memory': { value: true, help: 'refused: not supported' },
    'kernel-memory-tcp': { value: true, help: 'refused: not supported' },
    'l3-cache-schema': { value: true, help: 'refused: Intel RDT is not supported' },
    'mem-bw-schema': { value: true, help: 'refused: Intel RDT is not supported' },
  },
  run: (p, g) => info().update(p, g),
};

export const COMMANDS: Record<string, Entry<Globals>> = {
  create, start, run, state, kill, delete: del, exec, ps, list, pause, resume, spec, features, events, update,
  // berth's own commands beyond runc's
  image: { load: () => (require('../../overlayfs/image-cli') as typeof import('../../overlayfs/image-cli')).imageGroup },
  agent: { load: () => (require('../../cni/agent/agent-command') as typeof import('../../cni/agent/agent-command')).agentGroup },
  bgp: { load: () => (require('../../cni/agent/bgp-command') as typeof import('../../cni/agent/bgp-command')).bgpGroup },
  lab: { load: () => (require('../../lab/lab-cli') as typeof import('../../lab/lab-cli')).labGroup },
  pod: { load: () => (require('./pod') as typeof import('./pod')).podGroup },
  install: { load: () => (require('../../install/install-cni') as typeof import('../../install/install-cni')).installGroup },
  serve: { load: () => (require('../../server/cli') as typeof import('../../server/cli')).serveCommand(main) },
};
export const BERTH: Group<Globals> = {
  summary: `an OCI container runtime with runc's command line (version ${VERSION})`,
  flags: GLOBAL_FLAGS,
  commands: () => COMMANDS,
  enter: (_p, g) => g,
};

export async function main(argv: string[]): Promise<number> {
  let log = new Logger(undefined, 'text', false);
  try {
    const p = parseFlags(argv, GLOBAL_FLAGS, 'berth');
    const format = str(p, 'log-format') as LogFormat;
    if (format !== 'text' && format !== 'json') throw new BerthError(`invalid log format "${format}"`, { field: '--log-format' });
    const logFile = str(p, 'log');
    log = new Logger(logFile === undefined ? undefined : path.resolve(io.cwd(), logFile), format, bool(p, 'debug'));
    if (bool(p, 'version')) {
      io.out(`berth version ${VERSION}\nspec: 1.2.0\n`);
      return 0;
    }
    if (bool(p, 'systemd-cgroup')) throw new BerthError('systemd cgroup driver is not supported by berth: use cgroupfs paths', { field: '--systemd-cgroup' });
    const [name, ...rest] = p.positional;
    if (p.help || name === undefined) {
      printUsage('berth', BERTH);
      return p.help ? 0 : 1;
    }
    if (name !== 'help' && !Object.hasOwn(COMMANDS, name)) throw new BerthError(`No help topic for '${name}'`);
    const g: Globals = { root: path.resolve(io.cwd(), str(p, 'root')!), log, debug: bool(p, 'debug') };
    log.debug(`${name} ${rest.join(' ')}`);
    return await dispatch('berth', BERTH, p, g);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    log.error(msg);
    io.err(`berth: ${msg}\n`);
    return 1;
  }
}
