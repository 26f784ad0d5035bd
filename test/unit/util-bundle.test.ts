// lib/util/bundle.ts: a bundle counts while no file its header lists is newer; it runs as require() would,
// through a V8 code cache named by the bundle's content id. Proven by behaviour: V8 checks a cache against
// the source's length only, so a cache made from other code of the same length, found under the name of the
// bundle's id, runs that other code; the same cache under an old id's name is never read; a damaged one is
// rejected and rewritten; the code answers in every case.
import t from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { cachePath, openBundle, partialCachePath, wrapCommonJs } from '../../lib/util/bundle';

const UTIL = path.resolve(__dirname, '../../lib/util/bundle.js');
const KEYS = new Set(['run']);

function tmp(t: { teardown(fn: () => void): void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-bundle-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Sets a file's mtime to `s` seconds after the epoch (tests do not wait for the clock). */
const age = (file: string, s: number): void => fs.utimesSync(file, s, s);

const header = (id: string, after: string[] = []): string => `//berth-bundle ${JSON.stringify({ id, after })}\n`;
/** A bundle as scripts/bundle.js writes one: the header, then `code` in require()'s wrapper. */
const bundleOf = (id: string, code: string): string => header(id) + wrapCommonJs(code);

/**
 * Runs `file` through requireBundle in a fresh node (key "run"): prints its exports' `answer`; `status`:
 * the exit status the run ends with (a failing command's).
 */
function runBundle(file: string, status = 0): { status: number | null; stdout: string; stderr: string } {
  const code = `const b = require(${JSON.stringify(UTIL)}); const bundle = b.openBundle(${JSON.stringify(file)});`
    + `if (!bundle) throw new Error('not fresh'); process.stdout.write(String(b.requireBundle(bundle, 'run', new Set(['run'])).answer));`
    + `process.exitCode = ${status};`;
  return spawnSync(process.execPath, ['-e', code], { env: { PATH: process.env.PATH }, encoding: 'utf8' });
}

t.test('a bundle is fresh while no file of its header is newer; missing listed files do not count', async (t) => {
  const dir = tmp(t);
  const file = path.join(dir, 'p.js');
  const info = path.join(dir, '.tsbuildinfo');
  fs.writeFileSync(file, `${header('0123abcd', ['.tsbuildinfo', 'absent'])}module.exports = 1;\n`);
  fs.writeFileSync(info, '');
  age(info, 1000);
  age(file, 2000);
  const b = openBundle(file);
  t.equal(b?.id, '0123abcd', 'newer than what it lists: fresh, with its id');
  t.ok(b?.source.endsWith('module.exports = 1;\n'), 'and its source');
  age(info, 3000);
  t.equal(openBundle(file), undefined, 'tsc ran after it: stale');
  fs.rmSync(info);
  t.ok(openBundle(file), 'no build info (an installed package): fresh');
  fs.writeFileSync(file, 'module.exports = 1;\n');
  t.equal(openBundle(file), undefined, 'no header (not made by scripts/bundle.js): not a bundle');
  fs.writeFileSync(file, `//berth-bundle {"id":"../../x","after":[]}\nmodule.exports = 1;\n`);
  t.equal(openBundle(file), undefined, 'an id that is not a hash never becomes part of a path');
  fs.writeFileSync(file, `//berth-bundle {not json\n`);
  t.equal(openBundle(file), undefined, 'a damaged header: not a bundle');
  t.equal(openBundle(path.join(dir, 'missing.js')), undefined, 'no bundle');
});

t.test('code caches are named per key and per bundle id; unknown keys share "other"', async (t) => {
  t.equal(cachePath('/d/berth.js', 'abcd1234', 'run', KEYS), '/d/berth.run.abcd1234.v8cache');
  t.equal(cachePath('/d/berth.js', 'ffff0000', 'run', KEYS), '/d/berth.run.ffff0000.v8cache');
  t.equal(cachePath('/d/berth.js', 'abcd1234', '../x', KEYS), '/d/berth.other.abcd1234.v8cache');
});

t.test('requireBundle runs a CommonJS file with its own require and __dirname, returns its exports', async (t) => {
  const dir = tmp(t);
  const file = path.join(dir, 'b.js');
  // a builtin and a path relative to __dirname, as the bundles use
  fs.writeFileSync(file, bundleOf('00000001', `const p = require('node:path'); require('node:fs').writeFileSync(p.join(__dirname, 'ran'), __filename + ' ' + typeof module.exports); module.exports.answer = 42;`));
  const r = runBundle(file);
  t.equal(r.status, 0, r.stderr);
  t.equal(r.stdout, '42', 'its exports are returned');
  t.equal(fs.readFileSync(path.join(dir, 'ran'), 'utf8'), `${file} object`);
});

t.test('the code cache: written by the first run, used while its id matches, ignored when old, rewritten when damaged', async (t) => {
  const dir = tmp(t);
  const file = path.join(dir, 'berth.js');
  // two builds of the same length: only the content id tells them apart
  const older = bundleOf('aaaaaaaaaaaaaaaa', `module.exports.answer = 'older build';\n`);
  const newer = bundleOf('bbbbbbbbbbbbbbbb', `module.exports.answer = 'newer build';\n`);
  t.equal(older.length, newer.length);
  const olderCache = cachePath(file, 'aaaaaaaaaaaaaaaa', 'run', KEYS);
  const newerCache = cachePath(file, 'bbbbbbbbbbbbbbbb', 'run', KEYS);

  fs.writeFileSync(file, older);
  let r = runBundle(file);
  t.equal(r.stdout, 'older build', r.stderr);
  t.ok(fs.existsSync(olderCache), 'the first run of a key writes its cache');
  age(olderCache, 1000);
  r = runBundle(file);
  t.equal(r.stdout, 'older build', r.stderr);
  t.equal(fs.statSync(olderCache).mtimeMs, 1000 * 1000, 'an accepted cache is left alone');

  // the rebuild: the older build's cache stays behind under its own id
  fs.writeFileSync(file, newer);
  r = runBundle(file);
  t.equal(r.stdout, 'newer build', 'an old build\'s cache is not read: the new code runs');
  t.ok(fs.existsSync(newerCache), 'and the new build writes its own');

  // the older build's code cache under the newer id's name: V8 takes it (same length), so what runs
  // shows that the cache found by the name is used
  fs.copyFileSync(olderCache, newerCache);
  r = runBundle(file);
  t.equal(r.stdout, 'older build', 'a cache found under the bundle\'s id is what runs (it is used, not recompiled)');

  fs.writeFileSync(newerCache, 'garbage');
  r = runBundle(file);
  t.equal(r.status, 0, r.stderr);
  t.equal(r.stdout, 'newer build', 'a damaged cache is rejected: the code compiles from source');
  t.not(fs.readFileSync(newerCache, 'latin1'), 'garbage', 'and the cache is rewritten');
  r = runBundle(file);
  t.equal(r.stdout, 'newer build', 'the rewritten cache runs the bundle\'s code');
  t.same(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp')), [], 'no temp files left');
});

t.test('a failing run writes the partial cache: used while there is no other, replaced by a successful run\'s', async (t) => {
  const dir = tmp(t);
  const file = path.join(dir, 'berth.js');
  fs.writeFileSync(file, bundleOf('dddddddddddddddd', `module.exports.answer = 'answered';\n`));
  const full = cachePath(file, 'dddddddddddddddd', 'run', KEYS);
  const partial = partialCachePath(full);
  t.equal(partial, path.join(dir, 'berth.run.dddddddddddddddd.partial.v8cache'));
  let r = runBundle(file, 1);
  t.equal(r.status, 1);
  t.equal(r.stdout, 'answered');
  t.ok(fs.existsSync(partial), 'a failing first run writes the partial cache');
  t.notOk(fs.existsSync(full), 'not the full one');
  fs.utimesSync(partial, 1000, 1000);
  r = runBundle(file, 1);
  t.equal(fs.statSync(partial).mtimeMs, 1000 * 1000, 'another failing run uses it as it is');
  r = runBundle(file);
  t.equal(r.status, 0, r.stderr);
  t.ok(fs.existsSync(full), 'the first successful run writes the full cache');
  fs.utimesSync(full, 1000, 1000);
  r = runBundle(file, 1);
  t.equal(r.stdout, 'answered');
  t.equal(fs.statSync(full).mtimeMs, 1000 * 1000, 'a failing run with the full cache leaves it alone');
  fs.writeFileSync(full, 'garbage');
  r = runBundle(file, 1);
  t.equal(r.stdout, 'answered', 'a damaged full cache: the code still runs');
  t.notOk(fs.existsSync(full), 'a failing run removes the damaged full cache (every run would read it first)');
  t.ok(fs.existsSync(partial), 'and the partial one stands in');
});

t.test('a cache name that cannot be read (a directory there) leaves the answer alone', async (t) => {
  const dir = tmp(t);
  const file = path.join(dir, 'berth.js');
  fs.writeFileSync(file, bundleOf('cccccccccccccccc', `module.exports.answer = 'answered';\n`));
  // the cache's name taken by a directory: reading it fails, and no cache is written over it
  const cache = cachePath(file, 'cccccccccccccccc', 'run', KEYS);
  fs.mkdirSync(cache);
  fs.writeFileSync(path.join(cache, 'x'), '');
  const r = runBundle(file);
  t.equal(r.status, 0, r.stderr);
  t.equal(r.stdout, 'answered');
  t.equal(r.stderr, '', 'nothing said about the cache');
});
