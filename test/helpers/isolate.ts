// Re-runs a test file in its own mount (and optionally network) namespace, so that mounts, daemons'
// sockets and network state vanish with it even if it crashes.
import { spawnSync } from 'node:child_process';

/** Call before importing tap. The parent prints nothing of its own and exits with the child's status. */
export function reexecIsolated(opts: { net?: boolean } = {}): void {
  if (process.env.BERTH_ISOLATED === '1') return;
  const flags = ['-m', '--propagation', 'private', ...(opts.net ? ['-n'] : [])];
  const r = spawnSync('unshare', [...flags, process.execPath, ...process.execArgv, process.argv[1], ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, BERTH_ISOLATED: '1' },
  });
  if (r.error) {
    process.stderr.write(`unshare: ${r.error.message}\n`);
    process.exit(1);
  }
  process.exit(r.status ?? 1);
}
