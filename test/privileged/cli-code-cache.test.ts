// The cold CLI's code caches (lib/util/bundle.ts, lib/runtime/cli/entry.ts) with real containers: the
// first `run` writes its cache, later ones run through it and leave it alone; a damaged cache is rejected
// and rewritten; an installation whose dist/cli is read-only (mounted so, in a private mount namespace) runs
// containers all the same, damaged cache or not, and nothing is written there. The control in every case:
// the container's output and exit status, which must not depend on the cache.
// The installation is a copy of the CLI bundle beside links to this build's dist/lib, native and
// node_modules, so that its caches are this test's alone.
import t from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { makeBundle } from '../helpers/bundle';
import { requireTools } from '../helpers/tools';
import { cachePath, openBundle } from '../../lib/util/bundle';
import { BUNDLE_FILE, COMMAND_NAMES } from '../../lib/runtime/cli/entry';

t.before(() => requireTools(['unshare', 'mount']));

const HOME = path.resolve(__dirname, '../../..');
const ENTRY = path.join(HOME, 'dist', 'lib', 'runtime', 'cli', 'entry.js');

/** A private installation: dist/cli/berth.js copied, the rest linked. */
function install(t: { teardown(fn: () => void): void }): { file: string; cli: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-cache-install-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.mkdirSync(path.join(dir, 'dist', 'cli'), { recursive: true });
  fs.symlinkSync(path.join(HOME, 'dist', 'lib'), path.join(dir, 'dist', 'lib'));
  for (const d of ['native', 'node_modules']) fs.symlinkSync(path.join(HOME, d), path.join(dir, d));
  const file = path.join(dir, 'dist', 'cli', 'berth.js');
  fs.copyFileSync(BUNDLE_FILE, file);
  return { file, cli: path.dirname(file) };
}

/**
 * `berth run` of the bundle's container through loadCli(file), as bin/berth does; `readOnly`: with the
 * installation's dist/cli mounted read-only for this one call. Says whether main() came from the bundle.
 */
function runFrom(file: string, args: string[], readOnly = false) {
  const code = `const cli = require(${JSON.stringify(ENTRY)}).loadCli('run', ${JSON.stringify(file)});`
    + `const tsc = Object.keys(require.cache).some((f) => f.endsWith('/runtime/cli/main.js'));`
    + `cli.main(${JSON.stringify(args)}).then((c) => { require('fs').writeSync(2, (tsc ? 'tsc' : 'bundle') + ' ' + c + '\\n'); });`;
  const node = [process.execPath, '-e', code];
  const dir = path.dirname(file);
  const cmd = readOnly
    ? ['unshare', '-m', '--propagation', 'private', 'sh', '-c', 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && shift && exec "$@"', 'sh', dir, ...node]
    : node;
  const r = spawnSync(cmd[0], cmd.slice(1), { encoding: 'utf8', env: { PATH: process.env.PATH, BERTH_NO_SERVER: '1' } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

t.test('code caches with real containers: written, used, rewritten when damaged, never needed', async (t) => {
  const { file, cli } = install(t);
  const bundle = openBundle(file);
  t.ok(bundle, 'the copied bundle is fresh (the installation has no tsc build info)');
  if (!bundle) return;
  const b = makeBundle(['/bin/sh', '-c', 'echo hello from $0', 'cached']);
  t.teardown(() => b.cleanup());
  const cache = cachePath(file, bundle.id, 'run', COMMAND_NAMES);
  let n = 0;
  const run = (readOnly = false) => runFrom(file, ['--root', b.root, 'run', '--bundle', b.dir, `cache-${process.pid}-${n++}`], readOnly);
  const answered = (r: ReturnType<typeof run>, what: string) => {
    t.equal(r.status, 0, `${what}: ${r.stderr}`);
    t.equal(r.stdout, 'hello from cached\n', `${what}: the container ran`);
    t.match(r.stderr, /^bundle 0\n$/, `${what}: main() came from the bundle and returned 0`);
  };

  // read-only first: no cache exists, none can be written
  answered(run(true), 'read-only, no cache');
  t.notOk(fs.existsSync(cache), 'nothing written into a read-only installation');
  t.same(fs.readdirSync(cli), ['berth.js'], 'not even a temp file');

  answered(run(), 'first writable run');
  t.ok(fs.existsSync(cache), 'the first run of `run` wrote its cache');
  const good = fs.readFileSync(cache);
  fs.utimesSync(cache, 1000, 1000);
  answered(run(), 'with the cache');
  t.equal(fs.statSync(cache).mtimeMs, 1000 * 1000, 'an accepted cache is left as it is');

  fs.writeFileSync(cache, 'damaged');
  answered(run(true), 'read-only, damaged cache');
  t.equal(fs.readFileSync(cache, 'utf8'), 'damaged', 'a read-only installation keeps its damaged cache: rejected, never trusted');
  answered(run(), 'writable, damaged cache');
  t.not(fs.readFileSync(cache, 'latin1'), 'damaged', 'rewritten once the installation is writable');
  t.equal(fs.readFileSync(cache).length > 1000, true, `a real cache again (${fs.statSync(cache).size} bytes; the first was ${good.length})`);
  t.same(fs.readdirSync(cli).filter((f) => f.endsWith('.tmp')), [], 'no temp files left');
  t.same(fs.readdirSync(b.root).filter((f) => f.startsWith('cache-')), [], 'every container was deleted after its run');
});
