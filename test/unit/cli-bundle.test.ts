// bin/berth runs the CLI from its bundle (dist/cli/berth.js, scripts/bundle.js) with a code cache per
// command while the bundle is fresh, else from tsc's output (lib/runtime/cli/entry.ts): the answers are the
// same. The cache mechanism itself is tested in util-bundle.test.ts.
import t from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { cachePath, openBundle, partialCachePath } from '../../lib/util/bundle';
import { BUNDLE_FILE, COMMAND_NAMES, EXIT_AT_ANSWER, JOINS_CGROUP, commandOf, ownProcsFiles, warmCgroupLock } from '../../lib/runtime/cli/entry';
import { COMMANDS } from '../../lib/runtime/cli/main';

const BERTH = path.resolve(__dirname, '../../../bin/berth');
const ENTRY = path.resolve(__dirname, '../../lib/runtime/cli/entry.js');
const env = { PATH: process.env.PATH, BERTH_NO_SERVER: '1' };

function tmp(t: { teardown(fn: () => void): void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-clibundle-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

t.test('every command has its own code cache name, and the command is found in the command line', async (t) => {
  t.same([...COMMAND_NAMES].sort(), Object.keys(COMMANDS).sort(), 'entry.ts lists the commands of main.ts');
  t.equal(commandOf(['--root', '/tmp/x', 'run', '--bundle', 'b', 'id']), 'run');
  t.equal(commandOf(['--debug', 'state', 'id']), 'state');
  t.equal(commandOf(['--version']), 'other');
  t.equal(commandOf(['nonsense', 'x']), 'other');
  // help answers from usage text: it must not write the cache a command's real calls then run with
  for (const argv of [['run', '--help'], ['run', '-h'], ['--root', '/r', 'run', '-d', '--help=1'], ['help', 'run'], ['--debug', 'help', 'state']]) {
    t.equal(commandOf(argv), 'other', argv.join(' '));
  }
  t.equal(commandOf(['exec', 'id', 'df', '-h']), 'exec', 'a -h of the process run is not help');
  t.equal(commandOf(['run', '--bundle', 'b', 'id']), 'run');
  t.equal(commandOf(['run', '--', '-h']), 'run');
});

t.test('the bundle is what a build makes: ASCII, fresh, with the heavy groups left to tsc\'s output', async (t) => {
  const bundle = openBundle(BUNDLE_FILE);
  t.ok(bundle, 'dist/cli/berth.js is fresh after npm run build');
  if (!bundle) return;
  t.notOk(/[^\0-\x7f]/.test(bundle.source), 'ASCII only');
  t.match(bundle.source, 'require("./../lib/cni/agent/agent-command.js")', 'the agent loads from dist/lib');
});

t.test('commands answer through the bundle, each with its code cache, and name what is missing', async (t) => {
  const root = tmp(t);
  const bundle = openBundle(BUNDLE_FILE);
  for (const cmd of ['state', 'ps', 'delete', 'kill', 'start']) {
    const r = spawnSync(BERTH, ['--root', root, cmd, 'no-such-container'], { env, encoding: 'utf8' });
    t.equal(r.status, 1, `${cmd} fails`);
    t.match(r.stderr, /container "no-such-container" does not exist/, `${cmd}: ${r.stderr.trim()}`);
    // a failing call leaves the partial cache, or found a cache of either kind
    const full = bundle && cachePath(BUNDLE_FILE, bundle.id, cmd, COMMAND_NAMES);
    if (full) t.ok(fs.existsSync(full) || fs.existsSync(partialCachePath(full)), `${cmd} ran from the bundle (its code cache exists)`);
  }
  const r = spawnSync(BERTH, ['--version'], { env, encoding: 'utf8' });
  t.match(r.stdout, /^berth version /);
});

t.test('run --help answers without writing the cache that cold runs of run use', async (t) => {
  const bundle = openBundle(BUNDLE_FILE);
  t.ok(bundle, 'fresh bundle');
  if (!bundle) return;
  const full = cachePath(BUNDLE_FILE, bundle.id, 'run', COMMAND_NAMES);
  const before = fs.existsSync(full) ? fs.statSync(full).mtimeMs : undefined;
  const r = spawnSync(BERTH, ['run', '--help'], { env, encoding: 'utf8' });
  t.equal(r.status, 0, r.stderr);
  t.match(r.stdout, /^NAME:\n   berth run - /);
  t.equal(fs.existsSync(full) ? fs.statSync(full).mtimeMs : undefined, before, 'the run cache is as it was');
});

t.test('a one-shot command ends at its answer; the others wait for what keeps Node alive', async (t) => {
  const dir = tmp(t);
  t.ok([...EXIT_AT_ANSWER].every((c) => COMMAND_NAMES.has(c)), 'every one-shot command is a command');
  for (const c of ['serve', 'agent', 'bgp', 'events', 'lab', 'image', 'pod', 'install']) t.notOk(EXIT_AT_ANSWER.has(c), `${c} keeps Node's ordinary end`);
  // a pending timer, as a handle left open would be: it fires only in a process that waits for it. Long
  // for the one-shot command (a loaded machine may take a second to answer), short for the other
  const timer = (ms: number): NodeJS.ProcessEnv => {
    const preload = path.join(dir, `timer-${ms}.js`);
    fs.writeFileSync(preload, `setTimeout(() => process.stderr.write('timer fired\\n'), ${ms});`);
    return { ...env, NODE_OPTIONS: `--require ${preload}` };
  };
  let r = spawnSync(BERTH, ['--root', dir, 'state', 'none'], { env: timer(20_000), encoding: 'utf8' });
  t.equal(r.status, 1, 'state of a missing id fails, with its status');
  t.match(r.stderr, /container "none" does not exist/);
  t.notMatch(r.stderr, /timer fired/, 'state exited at its answer');
  r = spawnSync(BERTH, ['--version'], { env: timer(300), encoding: 'utf8' });
  t.match(r.stdout, /^berth version /);
  t.match(r.stderr, /timer fired/, 'a command outside the set keeps Node\'s ordinary end');
});

t.test('the commands that join cgroups start the lock\'s grace period at once, in a cgroup of their own', async (t) => {
  t.ok([...JOINS_CGROUP].every((c) => COMMAND_NAMES.has(c)), 'every cgroup-joining command is a command');
  t.same([...JOINS_CGROUP].sort(), ['create', 'exec', 'run']);
  // a hybrid host (this machine's shape): below a root first, v2 tried at unified/ then at the mount itself
  const hybrid = '9:name=systemd:/\n4:memory:/user/1\n1:cpu,cpuacct:/\n0::/\n';
  t.same(ownProcsFiles(hybrid, '/m'), ['/m/memory/user/1/cgroup.procs', '/m/systemd/cgroup.procs',
    '/m/cpu,cpuacct/cgroup.procs', '/m/unified/cgroup.procs', '/m/cgroup.procs']);
  t.same(ownProcsFiles('0::/system.slice/x.service\n', '/m'), ['/m/unified/system.slice/x.service/cgroup.procs',
    '/m/system.slice/x.service/cgroup.procs'], 'v2 only');
  t.same(ownProcsFiles('', '/m'), [], 'no cgroups');
  // the first file that opens gets this process's pid (written on libuv's threadpool: waited for)
  const dir = tmp(t);
  const file = path.join(dir, 'cgroup.procs');
  fs.writeFileSync(file, '');
  warmCgroupLock([path.join(dir, 'missing', 'cgroup.procs'), file, path.join(dir, 'other')]);
  for (let i = 0; i < 200 && !fs.readFileSync(file, 'utf8'); i++) await new Promise((r) => setTimeout(r, 5));
  t.equal(fs.readFileSync(file, 'utf8'), String(process.pid));
  t.notOk(fs.existsSync(path.join(dir, 'other')), 'only the first that opens');
  warmCgroupLock([path.join(dir, 'missing')]); // nothing opens: nothing happens, nothing throws
});

/** In a fresh node: loadCli from `file`, then runs `state` on a missing id; says where main() came from. */
function loadFrom(file: string, root: string) {
  const code = `const cli = require(${JSON.stringify(ENTRY)}).loadCli('state', ${JSON.stringify(file)});`
    + `const tsc = Object.keys(require.cache).some((f) => f.endsWith('/runtime/cli/main.js'));`
    + `cli.main(['--root', ${JSON.stringify(root)}, 'state', 'none']).then((code) => { process.stdout.write((tsc ? 'tsc' : 'bundle') + ' ' + code); });`;
  return spawnSync(process.execPath, ['-e', code], { env, encoding: 'utf8' });
}

t.test('a stale, damaged or missing bundle: tsc\'s output answers the same', async (t) => {
  const dir = tmp(t);
  // a copy of the bundle where its header's build info is this test's to age
  fs.mkdirSync(path.join(dir, 'cli'));
  const file = path.join(dir, 'cli', 'berth.js');
  fs.copyFileSync(BUNDLE_FILE, file);
  // the bundle requires its outside groups by relative path: give the copy the same neighbours
  fs.symlinkSync(path.resolve(__dirname, '../../lib'), path.join(dir, 'lib'));
  const info = path.join(dir, '.tsbuildinfo');
  fs.writeFileSync(info, '');
  fs.utimesSync(info, 1000, 1000);
  let r = loadFrom(file, dir);
  t.equal(r.stdout, 'bundle 1', `fresh: the bundle answers (${r.stderr.trim()})`);
  t.match(r.stderr, /container "none" does not exist/);
  const now = Date.now() / 1000 + 60;
  fs.utimesSync(info, now, now);
  r = loadFrom(file, dir);
  t.equal(r.stdout, 'tsc 1', 'tsc ran after the bundle: tsc\'s output answers');
  t.match(r.stderr, /container "none" does not exist/);
  fs.rmSync(info);
  fs.writeFileSync(file, fs.readFileSync(file, 'latin1').replace('exports.main', 'throw new Error("damaged"); exports.main'), 'latin1');
  r = loadFrom(file, dir);
  t.equal(r.stdout, 'tsc 1', 'a bundle that throws while loading: tsc\'s output answers');
  r = loadFrom(path.join(dir, 'cli', 'none.js'), dir);
  t.equal(r.stdout, 'tsc 1', 'no bundle: tsc\'s output answers');
});
