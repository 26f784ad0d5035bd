// runc as the control in a test: the same bundle, its own state root, output captured.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import type { RunResult } from './run';

/** Fails the calling test file early, naming the program, when runc is not installed. */
export function requireRunc(): void {
  const r = spawnSync('runc', ['--version'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) throw new Error('runc not found: install it (scripts/setup.sh installs Debian\'s runc)');
}

/**
 * `runc --root ROOT ARGS...`, stdin from /dev/null; never throws. A detached container would hold output
 * pipes open for its whole life, so with --detach (or -d) its output goes to /dev/null.
 */
export function runc(root: string, args: string[], cwd?: string): RunResult {
  fs.mkdirSync(root, { recursive: true });
  const detached = args.includes('--detach') || args.includes('-d');
  const r = spawnSync('runc', ['--root', root, ...args], { cwd, encoding: 'utf8', stdio: detached ? 'ignore' : ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
  return { code: r.status ?? 128, stdout: r.stdout ?? '', stderr: r.stderr ?? String(r.error ?? '') };
}

/** `runc run` of the bundle in `dir`, then `delete --force` whatever is left. */
export function runcRun(root: string, dir: string, id: string): RunResult {
  const r = runc(root, ['run', '--bundle', dir, id]);
  runc(root, ['delete', '--force', id]);
  return r;
}
