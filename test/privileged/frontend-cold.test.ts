// The native front-ends (dist/bin/, native/src/frontend.c) with no server: every call execs the cold Node
// entry point and gives what bin/<program> gives (stdout, stderr, exit status), also from a copy of the
// binary in another directory (as in /opt/cni/bin), with a stale socket, and when an unused --preserve-fds
// descriptor is closed. The control is bin/<program> itself, run in the same test with the same input.
import t, { type Test } from 'tap';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { cold, frontend, PROGRAMS, runProgram, tempRoot, type RunOptions } from '../helpers/frontend';
import { requireTools } from '../helpers/tools';

t.before(() => requireTools(['python3', ...PROGRAMS.map(frontend)]));

const VERSION_CONF = JSON.stringify({ cniVersion: '1.0.0', name: 'front-end-net', type: 'berth-bridge' });

/** Runs the front-end `file` and the cold script for `name` the same way; their outcomes must be equal. */
async function sameAsCold(t: Test, file: string, name: string, args: string[], opts: RunOptions = {}) {
  const control = await runProgram(cold(name), args, opts);
  const got = await runProgram(file, args, opts);
  t.same(got, control, `${path.basename(file)} ${args.join(' ')}: as bin/${name}`);
  return got;
}

t.test('berth: --version, an unknown container and a bad flag come out as bin/berth\'s', async (t) => {
  const { root, remove } = tempRoot('cold');
  t.teardown(remove);
  const v = await sameAsCold(t, frontend('berth'), 'berth', ['--root', root, '--version']);
  t.match(v.stdout, /^berth version \S+\nspec: /);
  t.equal(v.code, 0);
  const s = await sameAsCold(t, frontend('berth'), 'berth', [`--root=${root}`, 'state', 'front-end-unknown']);
  t.equal(s.code, 1);
  t.equal(s.stderr, 'berth: container "front-end-unknown" does not exist\n', 'one line naming the container');
  const f = await sameAsCold(t, frontend('berth'), 'berth', ['--root', root, '--no-such-flag']);
  t.not(f.code, 0);
  t.equal(f.stderr.trim().split('\n').length, 1, 'one error line');
});

t.test('CNI plugins: VERSION with the config on stdin as bin/berth-<plugin>, every plugin', async (t) => {
  for (const name of PROGRAMS.filter((p) => p !== 'berth')) {
    const r = await sameAsCold(t, frontend(name), name, [], { env: { CNI_COMMAND: 'VERSION' }, input: VERSION_CONF });
    t.equal(r.code, 0, `${name}: ${r.stderr}`);
    t.ok(JSON.parse(r.stdout).supportedVersions.includes('1.0.0'), `${name} lists 1.0.0`);
  }
  const bad = await sameAsCold(t, frontend('berth-ipam'), 'berth-ipam', [], { env: { CNI_COMMAND: 'ADD' }, input: '{not json' });
  t.not(bad.code, 0, 'bad stdin fails');
  t.match(JSON.parse(bad.stdout), { code: Number }, 'the spec error JSON on stdout, passed through');
});

t.test('a copy in another directory (and under another name) still finds the installation', async (t) => {
  const { root: dir, remove } = tempRoot('copy');
  t.teardown(remove);
  for (const [name, as] of [['berth', 'berth'], ['berth-bridge', 'berth-bridge'], ['berth-ipam', 'renamed-ipam']]) {
    fs.copyFileSync(frontend(name), path.join(dir, as));
    fs.chmodSync(path.join(dir, as), 0o755);
  }
  await sameAsCold(t, path.join(dir, 'berth'), 'berth', ['--root', dir, 'state', 'front-end-unknown']);
  await sameAsCold(t, path.join(dir, 'berth-bridge'), 'berth-bridge', [], { env: { CNI_COMMAND: 'VERSION' }, input: VERSION_CONF });
  const r = await sameAsCold(t, path.join(dir, 'renamed-ipam'), 'berth-ipam', [], { env: { CNI_COMMAND: 'VERSION' }, input: VERSION_CONF });
  t.equal(r.code, 0, 'the program is compiled in, not taken from argv[0]');
});

t.test('BERTH_HOME overrides the compiled-in installation; a wrong one is a one-line berth: error', async (t) => {
  const { root, remove } = tempRoot('home');
  t.teardown(remove);
  // a second installation that is only a symlink farm to this one: the front-end must run its bin/berth
  fs.mkdirSync(path.join(root, 'bin'));
  fs.writeFileSync(path.join(root, 'bin', 'berth'), `#!/usr/bin/env node\nprocess.stdout.write('other installation ' + process.argv.slice(2).join(' ') + '\\n');\n`, { mode: 0o755 });
  const other = await runProgram(frontend('berth'), ['--root', root, 'list'], { env: { BERTH_HOME: root } });
  t.same(other, { code: 0, stdout: `other installation --root ${root} list\n`, stderr: '' });
  const missing = path.join(root, 'nowhere');
  // --root: a root no server serves (a warm run may have one for /run/berth)
  const r = await runProgram(frontend('berth'), ['--root', root, '--version'], { env: { BERTH_HOME: missing } });
  t.equal(r.code, 127);
  t.equal(r.stdout, '');
  t.match(r.stderr, new RegExp(`^berth: cannot run ${missing}/bin/berth: No such file or directory`));
  t.equal(r.stderr.split('\n').length, 2, 'one line');
  const node = await runProgram(frontend('berth'), ['--root', root, '--version'], { env: { BERTH_NODE: path.join(root, 'no-node') } });
  t.equal(node.code, 127);
  t.match(node.stderr, /^berth: cannot run \S+no-node /);
});

t.test('a stale socket (nobody listening) and a root too long for a socket path go cold', async (t) => {
  const { root, remove } = tempRoot('stale');
  t.teardown(remove);
  const sock = path.join(root, 'serve.sock');
  // bound and never listened on, then the process exits: connect gets ECONNREFUSED
  execFileSync('python3', ['-c', 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])', sock]);
  t.ok(fs.statSync(sock).isSocket(), 'a socket file is there');
  await sameAsCold(t, frontend('berth'), 'berth', ['--root', root, 'state', 'front-end-unknown']);
  const long = path.join(root, 'x'.repeat(120));
  fs.mkdirSync(long);
  await sameAsCold(t, frontend('berth'), 'berth', ['--root', long, 'state', 'front-end-unknown']);
  await sameAsCold(t, frontend('berth-ipam'), 'berth-ipam', [], { env: { CNI_COMMAND: 'VERSION', BERTH_ROOT: root }, input: VERSION_CONF });
});
