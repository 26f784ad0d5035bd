// Running commands for the lab: `ip` for topology (always with -n: never the caller's namespace) and
// processes inside a lab namespace through nsenter, which execs, so the PID we record is the process's own.
import { execFileSync, spawn, ChildProcess, SpawnOptions } from 'node:child_process';
import { BerthError } from '../util/errors';
import { nsPath } from './names';

export function sh(cmd: string, args: string[], input?: string): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'] });
  } catch (e) {
    const err = e as { status?: number; stderr?: string; stdout?: string };
    throw new BerthError(`${cmd} ${args.join(' ')}: exit ${err.status ?? '?'}: ${(err.stderr || err.stdout || '').trim()}`);
  }
}

/** `ip -n NS ...`: every topology change names its namespace explicitly. */
export function ipIn(ns: string, ...args: string[]): string {
  return sh('ip', ['-n', ns, ...args]);
}

export interface NsRun { status: number; stdout: string; stderr: string }

/** Runs a command in a lab namespace and returns its outcome (never throws for a non-zero exit). */
export function runIn(ns: string, cmd: string, args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): NsRun {
  try {
    const stdout = execFileSync('nsenter', [`--net=${nsPath(ns)}`, cmd, ...args], {
      encoding: 'utf8', input: opts.input, env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'], timeout: opts.timeoutMs ?? 60_000,
    });
    return { status: 0, stdout, stderr: '' };
  } catch (e) {
    const err = e as { status?: number | null; stdout?: string; stderr?: string };
    return { status: err.status ?? 1, stdout: String(err.stdout ?? ''), stderr: String(err.stderr ?? '') };
  }
}

export function spawnIn(ns: string, cmd: string, args: string[], opts: SpawnOptions = {}): ChildProcess {
  return spawn('nsenter', [`--net=${nsPath(ns)}`, cmd, ...args], opts);
}
