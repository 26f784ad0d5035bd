// What bin/berth runs (and so the native front-end's cold path, which execs it): the CLI from its one-file
// bundle (dist/cli/berth.js, scripts/bundle.js) through a V8 code cache per command, while the bundle is
// fresh; else, or if it will not load, from tsc's output. Either way the same main() answers.
// Kept small: everything it loads comes before the bundle, on every call.
import fs = require('node:fs');
import path = require('node:path');
import { openBundle, requireBundle } from '../../util/bundle';

interface Cli {
  main(argv: string[]): Promise<number>;
  /** the cold path's hook: start a warm server for the next call (lib/server/autostart.ts) */
  ensureServerFor(argv: string[]): void;
}

/** The CLI's commands (main.ts COMMANDS; a unit test keeps the two equal): each gets its own code cache. */
export const COMMAND_NAMES: ReadonlySet<string> = new Set([
  'create', 'start', 'run', 'state', 'kill', 'delete', 'exec', 'ps', 'list', 'pause', 'resume', 'spec', 'features',
  'events', 'update', 'image', 'agent', 'bgp', 'lab', 'pod', 'install', 'serve',
]);

/** -h, --help, -help, --h (=value too), as lib/util/command-line.ts reads them */
const HELP_FLAG = /^--?h(elp)?(=|$)/;

/**
 * The command to pick a code cache for: the first word naming one. Without parsing the global flags, a
 * --root or --log value that names a command picks that command's cache: slower, never wrong.
 * A call for help (`help run`, `run --help`, `run -h` among the flags before its arguments) is "other":
 * the first successful run of a command writes its cache for good, and one from `run --help` would leave
 * every later cold `run` compiling the code that runs containers on each call (~8 ms CPU measured).
 */
export function commandOf(argv: readonly string[]): string {
  const i = argv.findIndex((a) => COMMAND_NAMES.has(a));
  if (i < 0 || argv.slice(0, i).includes('help')) return 'other';
  for (let j = i + 1; j < argv.length && argv[j].startsWith('-') && argv[j] !== '--'; j++) {
    if (HELP_FLAG.test(argv[j])) return 'other';
  }
  return argv[i];
}

export const BUNDLE_FILE = path.join(__dirname, '..', '..', '..', 'cli', 'berth.js');

function fromTsc(): Cli {
  return {
    main: (require('./main') as typeof import('./main')).main,
    ensureServerFor: (argv) => (require('../../server/autostart') as typeof import('../../server/autostart')).ensureServerFor(argv),
  };
}

/** The CLI, from the bundle when it is fresh and loads. */
export function loadCli(command: string, file = BUNDLE_FILE): Cli {
  const bundle = openBundle(file);
  if (bundle) {
    try {
      return requireBundle(bundle, command, COMMAND_NAMES) as Cli;
    } catch {
      // a bundle that does not load (a required file missing from a damaged install): tsc's output answers
    }
  }
  return fromTsc();
}

/**
 * The commands whose work is over when main() answers (their output is written synchronously, lib/util/io.ts):
 * these exit at once, as the CNI plugins do (lib/cni/skel.ts), instead of letting Node tear down its heap
 * and environment (~3 ms of a cold `run`). The long-running or streaming groups (serve, agent, bgp, events,
 * lab, image, pod, install) keep Node's ordinary end, after their last handle closes.
 */
export const EXIT_AT_ANSWER: ReadonlySet<string> = new Set([
  'create', 'start', 'run', 'state', 'kill', 'delete', 'exec', 'ps', 'list', 'pause', 'resume', 'spec', 'features',
  'update',
]);

/**
 * The commands that write a pid into cgroup.procs (the container's init, an exec'd process). On cgroup v1
 * (and v2 without favordynmods) the first such write after a quiet spell waits for an RCU grace period
 * (the global cgroup_threadgroup_rwsem), 5-15 ms measured here, and the container waits behind it (runc
 * pays it too). These commands start that wait as they start (warmCgroupLock), so it passes during the
 * ~10 ms of start-up before their own write.
 */
export const JOINS_CGROUP: ReadonlySet<string> = new Set(['create', 'run', 'exec']);

/**
 * This process's own cgroup.procs files, from /proc/self/cgroup text: where it sits below a hierarchy's root
 * first, then the roots. A v1 hierarchy is mounted at `mnt`/<controllers> (name=X at `mnt`/X), v2 at
 * `mnt`/unified on hybrid hosts, else at `mnt`.
 */
export function ownProcsFiles(procSelfCgroup: string, mnt = '/sys/fs/cgroup'): string[] {
  const below: string[] = [];
  const roots: string[] = [];
  for (const line of procSelfCgroup.split('\n')) {
    const m = /^\d+:([^:]*):(\/.*)$/.exec(line);
    if (!m) continue;
    const bases = m[1] ? [`${mnt}/${m[1].replace(/^name=/, '')}`] : [`${mnt}/unified`, mnt];
    const dir = m[2] === '/' ? '' : m[2];
    (dir ? below : roots).push(...bases.map((b) => `${b}${dir}/cgroup.procs`));
  }
  return [...below, ...roots];
}

/**
 * Moves this process into the cgroup it is already in (a migration that moves nothing but takes the lock a
 * real one takes), on libuv's threadpool: the grace period runs while the command loads. Into the first of
 * `files` that opens; nothing if none does (no cgroupfs, not root). Never throws.
 */
export function warmCgroupLock(files?: string[]): void {
  try {
    for (const file of files ?? ownProcsFiles(fs.readFileSync('/proc/self/cgroup', 'latin1'))) {
      let fd: number;
      try {
        fd = fs.openSync(file, fs.constants.O_WRONLY); // close-on-exec, as libuv opens every file
      } catch {
        continue;
      }
      fs.write(fd, String(process.pid), () => fs.close(fd, () => undefined));
      return;
    }
  } catch {
    // no /proc/self/cgroup: nothing to warm
  }
}

export function cliMain(argv: string[] = process.argv.slice(2)): void {
  const command = commandOf(argv);
  if (JOINS_CGROUP.has(command)) warmCgroupLock();
  const cli = loadCli(command);
  void cli.main(argv).then((code) => {
    if (process.env.BERTH_NO_SERVER !== '1' && process.env.BERTH_NO_AUTOSTART !== '1') {
      process.exitCode = code;
      cli.ensureServerFor(argv); // may start a server: Node's ordinary end waits for what that leaves
    } else if (EXIT_AT_ANSWER.has(command)) {
      process.exit(code); // 'exit' handlers still run: the code cache is written (lib/util/bundle.ts)
    } else {
      process.exitCode = code;
    }
  });
}
