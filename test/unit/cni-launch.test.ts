// How bin/berth-<plugin> starts (lib/cni/plugins/launch.ts): a bundle counts only while no file it was made
// from is newer; it runs as require() would run it, through a per-verb V8 code cache that the first run
// writes and a rejected (corrupt, other-V8) cache gets rewritten; the plugin answers the same either way.
import t from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { cachePath, freshness, launch, PLUGINS } from '../../lib/cni/plugins/launch';

const UTIL = path.resolve(__dirname, '../../lib/util/bundle.js');
const BIN = path.resolve(__dirname, '../../../bin');

function tmp(t: { teardown(fn: () => void): void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-launch-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Sets a file's mtime to `s` seconds after the epoch (tests do not wait for the clock). */
const age = (file: string, s: number): void => fs.utimesSync(file, s, s);

t.test('a bundle is fresh only while it is newer than every input listed beside it', async (t) => {
  const dir = tmp(t);
  const bundle = path.join(dir, 'p.js');
  const inputs = path.join(dir, 'p.inputs.json');
  fs.mkdirSync(path.join(dir, 'lib'));
  fs.writeFileSync(path.join(dir, 'lib', 'a.js'), '');
  fs.writeFileSync(bundle, '');
  fs.writeFileSync(inputs, JSON.stringify(['lib/a.js']));
  age(path.join(dir, 'lib', 'a.js'), 1000);
  age(bundle, 2000);
  t.equal(freshness(bundle, inputs), 2000 * 1000, 'newer than its input: fresh, and its mtime (ms) is returned');
  age(path.join(dir, 'lib', 'a.js'), 3000);
  t.equal(freshness(bundle, inputs), undefined, 'an input rebuilt after it: stale');
  age(path.join(dir, 'lib', 'a.js'), 1000);
  fs.rmSync(path.join(dir, 'lib', 'a.js'));
  t.equal(freshness(bundle, inputs), undefined, 'an input gone: stale');
  t.equal(freshness(path.join(dir, 'missing.js'), inputs), undefined, 'no bundle: stale');
  fs.writeFileSync(inputs, 'not json');
  t.equal(freshness(bundle, inputs), undefined, 'an unreadable input list: stale');
});

t.test('code caches are per verb and per bundle build', async (t) => {
  t.equal(cachePath('/d/berth-bridge.js', 1234.5, 'ADD'), '/d/berth-bridge.ADD.1234.v8cache');
  t.equal(cachePath('/d/berth-bridge.js', 1234.5, 'DEL'), '/d/berth-bridge.DEL.1234.v8cache');
  t.equal(cachePath('/d/berth-bridge.js', 99, 'ADD'), '/d/berth-bridge.ADD.99.v8cache', 'a rebuilt bundle gets new names');
  t.equal(cachePath('/d/berth-bridge.js', 1, '../../etc/x'), '/d/berth-bridge.other.1.v8cache', 'CNI_COMMAND never becomes a path');
});

t.test('requireBundle runs a CommonJS file with its own require and __dirname, returns its exports; the first run writes the cache', async (t) => {
  const dir = tmp(t);
  const bundle = path.join(dir, 'b.js');
  // require of a builtin and a path relative to __dirname, as the plugin bundles do
  fs.writeFileSync(bundle, `const p = require('node:path'); require('node:fs').writeFileSync(p.join(__dirname, 'ran'), __filename + ' ' + typeof module.exports); module.exports.answer = 42;`);
  const mtime = fs.statSync(bundle).mtimeMs;
  const cache = cachePath(bundle, mtime, 'ADD');
  const run = () => spawnSync(process.execPath, ['-e', `process.stdout.write(String(require(${JSON.stringify(UTIL)}).requireBundle(${JSON.stringify(bundle)}, ${mtime}, 'ADD', new Set(['ADD'])).answer))`], { env: { PATH: process.env.PATH, BERTH_NO_AUTOSTART: '1' }, encoding: 'utf8' });

  let r = run();
  t.equal(r.status, 0, r.stderr);
  t.equal(r.stdout, '42', 'its exports are returned');
  t.equal(fs.readFileSync(path.join(dir, 'ran'), 'utf8'), `${bundle} object`);
  t.ok(fs.existsSync(cache), 'the first run of a verb writes its cache');
  age(cache, 1000);

  r = run();
  t.equal(r.status, 0, r.stderr);
  t.equal(fs.statSync(cache).mtimeMs, 1000 * 1000, 'an accepted cache is left alone');

  fs.writeFileSync(cache, 'garbage');
  fs.rmSync(path.join(dir, 'ran'));
  r = run();
  t.equal(r.status, 0, r.stderr);
  t.ok(fs.existsSync(path.join(dir, 'ran')), 'a corrupt cache is rejected, not trusted: the code still runs');
  t.not(fs.readFileSync(cache, 'utf8'), 'garbage', 'and the cache is rewritten');
  t.same(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp')), [], 'no temp files left');
});

t.test('every plugin starts through the launcher and answers VERSION, bundled or not', async (t) => {
  for (const name of Object.keys(PLUGINS)) {
    t.match(fs.readFileSync(path.join(BIN, name), 'utf8'), `launch('${name}')`, `${name} uses the launcher`);
    const r = spawnSync(path.join(BIN, name), [], { env: { PATH: process.env.PATH, BERTH_NO_AUTOSTART: '1', CNI_COMMAND: 'VERSION' }, encoding: 'utf8' });
    t.equal(r.status, 0, `${name}: ${r.stderr}`);
    t.same(JSON.parse(r.stdout).supportedVersions, ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'], name);
  }
  t.throws(() => launch('berth-nope'), /unknown berth plugin berth-nope/);
});
