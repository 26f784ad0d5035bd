// runc as the control: the same command line on the same bundle, beside berth.
import { execFileSync } from 'node:child_process';
import { cli, type RunResult } from './run';

let found: string | undefined;

/** runc's path; throws naming it when it is not installed (scripts/setup.sh installs it). */
export function runcPath(): string {
  if (!found) {
    try {
      found = execFileSync('sh', ['-c', 'command -v runc'], { encoding: 'utf8' }).trim();
    } catch {
      throw new Error('runc is not installed (scripts/setup.sh installs it): it is this test\'s control');
    }
  }
  return found;
}

export function runc(args: string[], input?: string): Promise<RunResult> {
  return cli(runcPath(), args, input);
}
