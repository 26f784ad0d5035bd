// berth install cni: front-ends copied when built, shell wrappers that run the Node entry otherwise.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { installCni, wrapperScript } from '../../lib/install/install-cni';
import { PLUGINS } from '../../lib/cni/plugins/launch';
import { BerthError } from '../../lib/util/errors';

const REPO = path.resolve(__dirname, '../../..');

function tmpdir(t: { teardown(fn: () => void): void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'package-install-cni-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

t.test('without front-ends every plugin becomes an executable wrapper of its Node entry', async (t) => {
  const dir = tmpdir(t);
  const fakeRoot = path.join(dir, 'install root');
  fs.mkdirSync(fakeRoot);
  const done = installCni(path.join(dir, 'cni', 'bin'), fakeRoot);
  t.same(Object.keys(done).sort(), Object.keys(PLUGINS).sort());
  for (const [name, kind] of Object.entries(done)) {
    t.equal(kind, 'wrapper');
    const file = path.join(dir, 'cni', 'bin', name);
    t.equal(fs.statSync(file).mode & 0o777, 0o755);
    t.equal(fs.readFileSync(file, 'utf8'), wrapperScript(name, fakeRoot));
  }
  t.same(fs.readdirSync(path.join(dir, 'cni', 'bin')).sort(), Object.keys(PLUGINS).sort(), 'no temp files left');
});

t.test('a built front-end is copied byte for byte, replacing what was there', async (t) => {
  const dir = tmpdir(t);
  fs.mkdirSync(path.join(dir, 'root', 'dist', 'bin'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'root', 'dist', 'bin', 'berth-bridge'), 'front-end bytes');
  fs.mkdirSync(path.join(dir, 'bin'));
  fs.writeFileSync(path.join(dir, 'bin', 'berth-bridge'), 'old');
  const done = installCni(path.join(dir, 'bin'), path.join(dir, 'root'));
  t.equal(done['berth-bridge'], 'front-end');
  t.equal(done['berth-veth'], 'wrapper');
  t.equal(fs.readFileSync(path.join(dir, 'bin', 'berth-bridge'), 'utf8'), 'front-end bytes');
});

t.test('a wrapper runs the plugin: CNI VERSION through the checkout\'s Node entry', async (t) => {
  const dir = tmpdir(t);
  const file = path.join(dir, 'berth-veth');
  fs.writeFileSync(file, wrapperScript('berth-veth', REPO), { mode: 0o755 });
  const r = spawnSync(file, [], { env: { ...process.env, CNI_COMMAND: 'VERSION', BERTH_NO_AUTOSTART: '1' }, input: '{"cniVersion":"1.0.0"}', encoding: 'utf8' });
  t.equal(r.status, 0, r.stderr);
  t.ok((JSON.parse(r.stdout) as { supportedVersions: string[] }).supportedVersions.includes('1.1.0'));
});

t.test('--dir that is a file: one line naming --dir, nothing written', async (t) => {
  const dir = tmpdir(t);
  const file = path.join(dir, 'not-a-dir');
  fs.writeFileSync(file, 'x');
  let error: unknown;
  try { installCni(file, dir); } catch (e) { error = e; }
  t.ok(error instanceof BerthError, 'a BerthError');
  t.equal((error as BerthError).field, '--dir');
  t.notMatch((error as BerthError).message, /\n/, 'one line');
  t.equal(fs.readFileSync(file, 'utf8'), 'x');
});

t.test('a quote in the installation path stays one shell word', async (t) => {
  t.match(wrapperScript('berth-veth', "/opt/it's here", '/usr/bin/node'), `exec '/usr/bin/node' '/opt/it'\\''s here/bin/berth-veth' "$@"`);
});
