// A test that runs other programs checks for them first: on a machine where scripts/setup.sh has not
// installed one, it fails at once naming the program instead of hanging or failing obscurely.
import * as fs from 'node:fs';
import * as path from 'node:path';

/** The programs of `names` found neither on PATH nor, for a path, where it points. */
export function missingTools(names: string[]): string[] {
  const dirs = (process.env.PATH || '/usr/sbin:/usr/bin:/sbin:/bin').split(':').filter(Boolean);
  const executable = (f: string) => {
    try {
      fs.accessSync(f, fs.constants.X_OK);
      return fs.statSync(f).isFile();
    } catch {
      return false;
    }
  };
  return names.filter((n) => !(n.includes('/') ? [n] : dirs.map((d) => path.join(d, n))).some(executable));
}

/**
 * Throws, naming every missing program, unless all of `names` are installed. Call it first in t.before
 * (the file then stops with that one failure) or at the start of a subtest (that subtest fails).
 */
export function requireTools(names: string[]): void {
  const missing = missingTools(names);
  if (missing.length > 0) throw new Error(`not installed: ${missing.join(', ')} (scripts/setup.sh installs ${missing.length > 1 ? 'them' : 'it'})`);
}
