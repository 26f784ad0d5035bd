// The cold entry points (bin/berth, the CNI plugins' launch) start a server in the background when none
// answers for their root (lib/server/protocol.ts): detached in its own session, stdio on /dev/null, logging to
// <root>/serve.log. Not with BERTH_NO_SERVER=1 or BERTH_NO_AUTOSTART=1, not for non-root callers, and not
// for a root directory that does not exist yet (a query must not create one; the first create does).
import fs = require('node:fs');
import path = require('node:path');
import { installRoot } from '../util/install';

const DEFAULT_ROOT = '/run/berth';

/** A server's socket is there and the pid in its pid file is alive. */
export function serverAnswering(root: string): boolean {
  if (!fs.existsSync(path.join(root, 'serve.sock'))) return false;
  let pid: number;
  try {
    pid = Number(fs.readFileSync(path.join(root, 'serve.pid'), 'utf8').trim());
  } catch {
    return false;
  }
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function autostartWanted(env: NodeJS.ProcessEnv): boolean {
  return env.BERTH_NO_SERVER !== '1' && env.BERTH_NO_AUTOSTART !== '1' && process.getuid?.() === 0;
}

/** Starts `berth --root root serve` in the background unless one answers; returns its pid, if started. */
export function ensureServer(root: string, env: NodeJS.ProcessEnv = process.env): number | undefined {
  if (!autostartWanted(env) || !fs.existsSync(root) || serverAnswering(root)) return undefined;
  const { spawn } = require('node:child_process') as typeof import('node:child_process');
  // the caller's CNI_* variables are its request's, not the server's
  const serverEnv = Object.fromEntries(Object.entries(env).filter(([k]) => !k.startsWith('CNI_')));
  // Descriptors the caller inherited (--preserve-fds, a shim's pipes) must not live on in the server:
  // libuv's spawn closes every fd above the stdio it is given in the child (server-basic tests it).
  // Two cold calls may both get here: the second server finds the pid file locked and exits.
  const child = spawn(process.execPath, [path.join(installRoot(), 'bin', 'berth'), '--root', root, 'serve', '--existing-root'], {
    detached: true, stdio: 'ignore', env: serverEnv, cwd: '/',
  });
  child.unref();
  return child.pid;
}

/** bin/berth's hook: the server for the call's --root (none for `berth serve` itself). */
export function ensureServerFor(argv: string[], cwd = process.cwd()): void {
  if (!autostartWanted(process.env)) return;
  try {
    const { parseFlags, str } = require('../util/command-line') as typeof import('../util/command-line');
    const { GLOBAL_FLAGS } = require('../runtime/cli/global-flags') as typeof import('../runtime/cli/global-flags');
    const p = parseFlags(argv, GLOBAL_FLAGS, 'berth');
    if (p.positional[0] === 'serve') return;
    ensureServer(path.resolve(cwd, str(p, 'root') ?? DEFAULT_ROOT));
  } catch {
    // a command line the CLI refused, or no way to start one: the call itself already answered
  }
}

/** The CNI plugins' hook: their root is BERTH_ROOT or the default. */
export function ensureServerForPlugin(): void {
  if (!autostartWanted(process.env)) return;
  try {
    ensureServer(path.resolve(process.env.BERTH_ROOT || DEFAULT_ROOT));
  } catch {
    // the plugin's answer matters, not the server
  }
}
