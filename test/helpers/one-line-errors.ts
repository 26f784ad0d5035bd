// Bad-input checks for the CLI: each case fails with exactly one stderr line matching its pattern.
import { BERTH, command } from './run';

import type { Test } from 'tap';

export async function expectOneLineErrors(t: Test, root: string, cases: [string[], RegExp][]): Promise<void> {
  for (const [args, re] of cases) {
    const r = await command(BERTH, ['--root', root, ...args]);
    t.not(r.code, 0, args.join(' '));
    t.match(r.stderr, re, args.join(' '));
    t.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
  }
}
