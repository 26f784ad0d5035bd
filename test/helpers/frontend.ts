// Where tests find berth's programs, and a runner with full control of env, cwd, stdin and extra descriptors.
// BERTH_TEST_FRONTEND=1 makes program() answer the native front-ends (dist/bin/, scripts/frontends.js) instead
// of the Node scripts (bin/, the cold entry points), so a suite can be run through the front-ends unchanged.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn } from 'node:child_process';

export const INSTALL = path.resolve(__dirname, '..', '..', '..');
export const COLD_BIN = path.join(INSTALL, 'bin');
export const FRONTEND_BIN = path.join(INSTALL, 'dist', 'bin');
export const PROGRAMS = ['berth', 'berth-bridge', 'berth-ipam', 'berth-veth', 'berth-portmap', 'berth-vxlan', 'berth-bgp'];

/** The program tests should run: the front-end with BERTH_TEST_FRONTEND=1, else the cold Node script. */
export function program(name: string): string {
  return path.join(process.env.BERTH_TEST_FRONTEND === '1' ? FRONTEND_BIN : COLD_BIN, name);
}

/** The directory of berth's programs that program() picks from (a CNI_PATH entry). */
export function programDir(): string {
  return process.env.BERTH_TEST_FRONTEND === '1' ? FRONTEND_BIN : COLD_BIN;
}

/**
 * The warm mode of the test runner (`node test/run.js --warm`): front-ends, and servers auto-started per root.
 * Every server it starts carries BERTH_TEST_RUN in its environment (inherited from the call that started it),
 * which is how the runner and the cgroup cleanup find them by pid.
 */
export const WARM = process.env.BERTH_TEST_WARM === '1';

/** Pids of the berth servers this test run started (their environment has our BERTH_TEST_RUN). */
export function testServers(): number[] {
  const run = process.env.BERTH_TEST_RUN;
  if (!run) return [];
  const out: number[] = [];
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const argv = fs.readFileSync(`/proc/${e}/cmdline`, 'utf8').split('\0');
      if (!argv.includes('serve')) continue;
      if (fs.readFileSync(`/proc/${e}/environ`, 'utf8').split('\0').includes(`BERTH_TEST_RUN=${run}`)) out.push(Number(e));
    } catch { /* gone */ }
  }
  return out;
}

/** Stops the test run's servers among pids (all of them by default) and waits for them to leave. */
export function stopTestServers(among?: number[]): void {
  const mine = testServers().filter((p) => !among || among.includes(p));
  for (const pid of mine) { try { process.kill(pid, 'SIGTERM'); } catch { /* gone */ } }
  const until = Date.now() + 5000;
  for (const pid of mine) {
    while (fs.existsSync(`/proc/${pid}`) && Date.now() < until) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
    try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
  }
}

/** A state root's entries, less a server's own files (serve.sock, serve.pid, serve.log: warm mode has them). */
export function stateEntries(root: string): string[] {
  return fs.readdirSync(root).filter((e) => !/^serve\.(sock|pid|log)$/.test(e));
}

export function frontend(name: string): string {
  return path.join(FRONTEND_BIN, name);
}

export function cold(name: string): string {
  return path.join(COLD_BIN, name);
}

/** The build id the front-ends have compiled in (the server reads the same file). */
export function buildId(): string {
  return fs.readFileSync(path.join(INSTALL, 'dist', 'build-id'), 'utf8');
}

export interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env?: Record<string, string | undefined>;
  input?: string;
  cwd?: string;
  /** descriptors the child gets as fds 3, 4, ... */
  extraFds?: number[];
}

/**
 * The environment a test gives a front-end: this process's, without the switches that would change the path
 * taken, and never starting a real server (BERTH_NO_AUTOSTART) so that tests leave none behind.
 */
export function testEnv(extra: Record<string, string | undefined> = {}): Record<string, string> {
  const env: Record<string, string | undefined> = { ...process.env, BERTH_NO_SERVER: undefined, BERTH_ROOT: undefined, BERTH_HOME: undefined, BERTH_NODE: undefined, BERTH_NO_AUTOSTART: WARM ? undefined : '1', ...extra };
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));
}

/** Runs file with args; never rejects. Pipes are fine: nothing here outlives the program. */
export function runProgram(file: string, args: string[], opts: RunOptions = {}): Promise<Outcome> {
  return new Promise((resolve) => {
    const child = spawn(file, args, {
      env: testEnv(opts.env),
      cwd: opts.cwd ?? os.tmpdir(),
      stdio: ['pipe', 'pipe', 'pipe', ...(opts.extraFds ?? [])],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => { stdout += d; });
    child.stderr!.on('data', (d) => { stderr += d; });
    child.stdin!.on('error', () => {});
    child.stdin!.end(opts.input ?? '');
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? 128 + (signal ? os.constants.signals[signal] : 0), stdout, stderr });
    });
  });
}

/** A fresh temp state root (the front-ends' <root>), removed by the returned function. */
export function tempRoot(label: string): { root: string; remove(): void } {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), `front-end-${label}-`));
  return { root, remove: () => fs.rmSync(root, { recursive: true, force: true }) };
}

/**
 * A runtime path for clients that scrub the environment (podman's conmon): a script in `dir` that execs
 * berth with this run's server policy, so a cold call there starts no server (or, in warm mode, one the run
 * can find and stop by its BERTH_TEST_RUN mark).
 */
export function runtimeWrapper(dir: string): string {
  const file = path.join(dir, 'berth-runtime');
  const policy = WARM ? `BERTH_TEST_RUN=${process.env.BERTH_TEST_RUN ?? ''}` : 'BERTH_NO_AUTOSTART=1';
  fs.writeFileSync(file, `#!/bin/sh\nexport ${policy}\nexec ${program('berth')} "$@"\n`, { mode: 0o755 });
  return file;
}
