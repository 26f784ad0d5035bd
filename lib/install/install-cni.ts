// `berth install cni [--dir /opt/cni/bin]`: puts every berth CNI plugin where CNI runtimes look. Each one is
// a copy of its native front-end (dist/bin, built at install with this installation's path compiled in, so a
// copy anywhere works), or, where the front-ends were not built, a shell wrapper that runs the Node entry.
import fs = require('node:fs');
import path = require('node:path');
import { PLUGINS } from '../cni/plugins/launch';
import { BerthError } from '../util/errors';
import { str, type Command, type Group } from '../util/command-line';
import { installRoot } from '../util/install';
import * as io from '../util/io';

export const DEFAULT_CNI_BIN_DIR = '/opt/cni/bin';

export type InstalledKind = 'front-end' | 'wrapper';

/** A POSIX sh wrapper for plugin `name` of the installation at `root`, run by this node. */
export function wrapperScript(name: string, root: string, node: string = process.execPath): string {
  const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
  return `#!/bin/sh\n# berth CNI plugin ${name} (berth install cni)\nexec ${quote(node)} ${quote(path.join(root, 'bin', name))} "$@"\n`;
}

/** Writes `file` whole or not at all: a runtime calling the plugin meanwhile runs the old one, not a torn one. */
function writeExecutable(file: string, write: (tmp: string) => void): void {
  const tmp = `${file}.berth-tmp-${process.pid}`;
  try {
    write(tmp);
    fs.chmodSync(tmp, 0o755);
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}

/** Installs every plugin into `dir` (created when missing); returns what each one became. */
export function installCni(dir: string, root: string = installRoot()): Record<string, InstalledKind> {
  try {
    fs.mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw new BerthError(`cannot create ${dir}: ${(e as Error).message}`, { field: '--dir' });
  }
  if (!fs.statSync(dir).isDirectory()) throw new BerthError(`${dir} is not a directory`, { field: '--dir' });
  const done: Record<string, InstalledKind> = {};
  for (const name of Object.keys(PLUGINS)) {
    const frontEnd = path.join(root, 'dist', 'bin', name);
    const target = path.join(dir, name);
    if (fs.existsSync(frontEnd)) {
      writeExecutable(target, (tmp) => fs.copyFileSync(frontEnd, tmp));
      done[name] = 'front-end';
    } else {
      writeExecutable(target, (tmp) => fs.writeFileSync(tmp, wrapperScript(name, root)));
      done[name] = 'wrapper';
    }
  }
  return done;
}

const cni: Command<unknown> = {
  summary: 'install the berth CNI plugins into a CNI bin directory',
  flags: { dir: { value: true, arg: 'DIR', default: DEFAULT_CNI_BIN_DIR, help: 'where CNI runtimes look for plugins' } },
  run: async (p) => {
    if (p.positional.length) throw new BerthError(`unexpected argument "${p.positional[0]}"`, { field: 'berth install cni' });
    const dir = path.resolve(str(p, 'dir') ?? DEFAULT_CNI_BIN_DIR);
    for (const [name, kind] of Object.entries(installCni(dir))) io.out(`${path.join(dir, name)} (${kind})\n`);
    return 0;
  },
};

export const installGroup: Group<unknown> = {
  summary: 'install parts of berth into the places other programs look for them',
  flags: {},
  commands: () => ({ cni }),
  enter: (_p, ctx) => ctx,
};
