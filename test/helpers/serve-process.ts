// Starts and stops `berth serve` processes for the server's tests: each under a state root of its own,
// in the foreground (its log on our stderr pipe), optionally inside a network namespace; stopped by pid.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const BERTH = path.join(__dirname, '..', '..', '..', 'bin', 'berth');

export interface ServerProcess {
  root: string;
  child: ChildProcess;
  log(): string;
  /** resolves with the exit code once the process is gone */
  exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export function tempRoot(purpose: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `warm-server-${purpose}-`));
}

/** `berth --root root serve --foreground`, resolved once its socket is there (or rejected when it exits). */
export async function startServer(root: string, opts: { idleSeconds?: number; netns?: string; env?: NodeJS.ProcessEnv } = {}): Promise<ServerProcess> {
  // tap's NODE_OPTIONS (its process-info hooks) are the test's, not the server's
  const env = { ...(opts.env ?? process.env) };
  delete env.NODE_OPTIONS;
  const args = [BERTH, '--root', root, 'serve', '--foreground', '--idle-timeout', String(opts.idleSeconds ?? 120)];
  const child = opts.netns
    ? spawn('nsenter', [`--net=${opts.netns}`, process.execPath, ...args], { stdio: ['ignore', 'ignore', 'pipe'], env })
    : spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'], env });
  let log = '';
  child.stderr!.on('data', (d: Buffer) => { log += d.toString(); });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const sock = path.join(root, 'serve.sock');
  const deadline = Date.now() + 10000;
  let gone = false;
  void exited.then(() => { gone = true; });
  while (!fs.existsSync(sock) || !/serving/.test(log)) {
    if (gone) throw new Error(`berth serve exited early: ${log}`);
    if (Date.now() > deadline) { child.kill('SIGKILL'); throw new Error(`berth serve did not start: ${log}`); }
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    root, child, exited, log: () => log,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
