// The warm launch (issue 13): create, start and run through the native front-end with a server that takes
// them. The server plans, the front-end forks the bootstrap, so the container descends from the process the
// client ran (containerd's shim is a subreaper and relies on that), never from the server. A server killed
// at any point of a create leaves nothing that `delete --force` does not clean, and the next call works.
import t from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { native } from '../../lib/sys/native';
import { cgroupParent, removeCgroupParent } from '../helpers/cgroup-parent';
import { INSTALL, frontend, stateEntries, testEnv, type Outcome } from '../helpers/frontend';
import { bundle, rootfs, type TestBundle } from '../helpers/run';
import { startServer, tempRoot, type ServerProcess } from '../helpers/serve-process';
import { uniqueId } from '../helpers/bundle';
import { buildC, runC } from '../helpers/cc';

const BERTH = frontend('berth');
// the server's environment: launching is its default
const LAUNCH_ENV = { ...process.env, BERTH_SERVE_LAUNCH: undefined };

// the containers' init processes re-parent to us once the front-end and the bootstrap's first stage exit,
// as they would to containerd's shim
native().setChildSubreaper(true);

/**
 * `berth --debug --root root ...` through the front-end (--debug makes it say when it goes cold), its output
 * in files: a created container holds the stdio it was given, so pipes would not close until it ends.
 */
async function berth(root: string, args: string[], program = BERTH, programArgs: string[] = []): Promise<Outcome> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'warm-launch-out-'));
  const out = fs.openSync(path.join(dir, 'out'), 'w+');
  const err = fs.openSync(path.join(dir, 'err'), 'w+');
  try {
    const child = spawn(program, [...programArgs, '--debug', '--root', root, ...args], { env: testEnv({ BERTH_NO_AUTOSTART: '1' }), cwd: dir, stdio: ['ignore', out, err] });
    const code = await new Promise<number>((resolve) => child.on('exit', (c, sig) => resolve(c ?? 128 + os.constants.signals[sig!])));
    return { code, stdout: fs.readFileSync(path.join(dir, 'out'), 'utf8'), stderr: fs.readFileSync(path.join(dir, 'err'), 'utf8') };
  } finally {
    fs.closeSync(out);
    fs.closeSync(err);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function ppidOf(pid: number): number {
  return Number(/^PPid:\s+(\d+)$/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
}

/** Pids of live processes whose root directory is the test rootfs: containers, or bootstraps past pivot_root. */
function processesInRootfs(): number[] {
  const want = fs.realpathSync(rootfs());
  return fs.readdirSync('/proc').filter((e) => /^\d+$/.test(e)).map(Number).filter((pid) => {
    try { return fs.readlinkSync(`/proc/${pid}/root`) === want; } catch { return false; }
  });
}

/** Our children (adopted as subreaper): reaped when they have exited, listed when they still run. */
async function liveChildren(): Promise<number[]> {
  const live: number[] = [];
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    let status: string;
    try { status = fs.readFileSync(`/proc/${e}/status`, 'utf8'); } catch { continue; }
    if (Number(/^PPid:\s+(\d+)$/m.exec(status)?.[1]) !== process.pid) continue;
    if (/^State:\s+Z/m.test(status)) await new Promise((r) => native().waitPid(Number(e), r));
    else if (!/^Name:\s+(tap|node)$/m.test(status)) live.push(Number(e));
  }
  return live;
}

interface Fixture { root: string; b: TestBundle; cgroup: string; server?: ServerProcess }

function fixture(t: { teardown(fn: () => unknown): void }, label: string, args: string[]): Fixture {
  const root = tempRoot(label);
  const cgroup = cgroupParent(uniqueId(`warm-launch-${label}`));
  const b = bundle(args, (s) => { s.linux!.cgroupsPath = cgroup; });
  const f: Fixture = { root, b, cgroup };
  t.teardown(async () => {
    await f.server?.stop('SIGKILL');
    // a failed test may leave a container behind: it goes with its state
    for (const id of stateEntries(root)) await berth(root, ['delete', '--force', id]);
    removeCgroupParent(cgroup);
    b.cleanup();
    fs.rmSync(root, { recursive: true, force: true });
  });
  return f;
}

function cgroupLeft(cgroup: string): string[] {
  return fs.readdirSync('/sys/fs/cgroup').map((c) => path.join('/sys/fs/cgroup', c, cgroup)).filter((d) => fs.existsSync(d));
}

t.test('run: warm, the status and output come back, the container was the front-end\'s child', async (t) => {
  const f = fixture(t, 'run', ['sh', '-c', 'echo "parent $PPID"; exit 7']);
  f.server = await startServer(f.root, { env: LAUNCH_ENV });
  const id = uniqueId('warm-run');
  const r = await berth(f.root, ['run', '--bundle', f.b.dir, id]);
  t.notMatch(r.stderr, /cold path/, 'the server took it');
  t.equal(r.code, 7, r.stderr);
  t.equal(r.stdout, 'parent 0\n', 'the container\'s output came through the client\'s own stdout');
  t.same(stateEntries(f.root), [], 'run removed its state');
  t.same(cgroupLeft(f.cgroup), [], 'and its cgroup');
  t.match(f.server.log(), /serving/);
  t.equal(f.server.child.exitCode, null, 'the server is still up');
});

t.test('create + start: the init descends from the front-end (its subreaper adopts it), not the server', async (t) => {
  const f = fixture(t, 'create', ['sleep', '30']);
  const server = f.server = await startServer(f.root, { env: LAUNCH_ENV });
  const id = uniqueId('warm-create');
  const created = await berth(f.root, ['create', '--bundle', f.b.dir, id]);
  t.notMatch(created.stderr, /cold path/, 'create was warm');
  t.equal(created.code, 0, created.stderr);
  const state = await berth(f.root, ['state', id]);
  const { pid, status } = JSON.parse(state.stdout) as { pid: number; status: string };
  t.equal(status, 'created');
  t.equal(ppidOf(pid), process.pid, 'the subreaper above the front-end adopted the init');
  t.not(ppidOf(pid), server.child.pid, 'the server is not its parent');
  const started = await berth(f.root, ['start', id]);
  t.notMatch(started.stderr, /cold path/, 'start was warm');
  t.equal(started.code, 0, started.stderr);
  t.equal(JSON.parse((await berth(f.root, ['state', id])).stdout).status, 'running');
  const exited = new Promise<[number, number]>((resolve) => native().waitPid(pid, (code, sig) => resolve([code, sig])));
  t.equal((await berth(f.root, ['kill', id, 'KILL'])).code, 0);
  t.same(await exited, [-1, 9], 'we, its subreaper, reaped it: killed by SIGKILL');
  t.equal((await berth(f.root, ['delete', id])).code, 0);
  t.same(stateEntries(f.root), []);
  t.same(cgroupLeft(f.cgroup), []);
});

/** The network namespaces the server holds (its pool of ready ones), by inode. */
function heldNetns(pid: number): string[] {
  return fs.readdirSync(`/proc/${pid}/fd`).map((fd) => {
    try { return fs.readlinkSync(`/proc/${pid}/fd/${fd}`); } catch { return ''; }
  }).filter((l) => l.startsWith('net:'));
}

t.test('a warm create enters a network namespace the server made ahead, one no other container had', async (t) => {
  const f = fixture(t, 'netns', ['sleep', '30']);
  const server = f.server = await startServer(f.root, { env: LAUNCH_ENV });
  const ids = [uniqueId('warm-netns-a'), uniqueId('warm-netns-b')];
  const netnsOf = async (id: string): Promise<{ pid: number; netns: string }> => {
    const { pid } = JSON.parse((await berth(f.root, ['state', id])).stdout) as { pid: number };
    return { pid, netns: fs.readlinkSync(`/proc/${pid}/ns/net`) };
  };
  const first = await berth(f.root, ['create', '--bundle', f.b.dir, ids[0]]);
  t.equal(first.code, 0, first.stderr);
  // the first launch asked for the pool; it fills in the background
  const deadline = Date.now() + 5000;
  while (heldNetns(server.child.pid!).length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  const ready = heldNetns(server.child.pid!);
  t.equal(ready.length, 2, 'the server holds two ready namespaces');
  const second = await berth(f.root, ['create', '--bundle', f.b.dir, ids[1]]);
  t.notMatch(second.stderr, /cold path/, 'the create was warm');
  t.equal(second.code, 0, second.stderr);
  const [a, b] = [await netnsOf(ids[0]), await netnsOf(ids[1])];
  t.ok(ready.includes(b.netns), `the container entered one of them (${b.netns} of ${ready.join(', ')})`);
  t.notOk(heldNetns(server.child.pid!).includes(b.netns), 'the server let it go: it is the container\'s alone');
  t.not(a.netns, b.netns, 'each container has a namespace of its own');
  t.not(b.netns, fs.readlinkSync('/proc/self/ns/net'), 'not ours');
  // as fresh as one the clone makes: nothing but lo, down
  const links = fs.readFileSync(`/proc/${b.pid}/net/dev`, 'utf8').split('\n').slice(2).filter(Boolean).map((l) => l.split(':')[0].trim());
  t.same(links, ['lo'], 'only lo');
  t.equal(fs.readFileSync(`/proc/${b.pid}/root/sys/class/net/lo/operstate`, 'utf8').trim(), 'down', 'lo is down');
  for (const id of ids) t.equal((await berth(f.root, ['delete', '--force', id])).code, 0);
  t.same(stateEntries(f.root), []);
});

/** The cgroup path of each hierarchy the process is in, from /proc/<pid>/cgroup ("" for v2). */
function cgroupsOf(pid: number): Map<string, string> {
  const lines = fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8').trim().split('\n');
  return new Map(lines.map((l) => /^\d+:([^:]*):(.*)$/.exec(l)!).map((m) => [m[1], m[2]]));
}

t.test('a front-end where clone3 is refused (older engines\' seccomp profiles) clones plainly, and the container still gets its cgroups', async (t) => {
  const f = fixture(t, 'noclone3', ['sleep', '30']);
  f.server = await startServer(f.root, { env: LAUNCH_ENV });
  const noClone3 = buildC('no-clone3', fs.readFileSync(path.join(INSTALL, 'test', 'helpers', 'no-clone3.c'), 'utf8'));
  t.teardown(() => noClone3.cleanup());
  t.equal(runC(noClone3, ['--probe']).trim(), 'ENOSYS', 'under the wrapper, clone3 is refused');
  const id = uniqueId('warm-noclone3');
  const created = await berth(f.root, ['create', '--bundle', f.b.dir, id], noClone3.exe, [BERTH]);
  t.notMatch(created.stderr, /cold path/, 'the create was warm: the front-end forked the bootstrap');
  t.equal(created.code, 0, created.stderr);
  const { pid } = JSON.parse((await berth(f.root, ['state', id])).stdout) as { pid: number };
  const placed = cgroupsOf(pid);
  t.equal(placed.get(''), f.cgroup, 'the init wrote itself into its v2 cgroup, as clone3 would have placed it');
  for (const [controllers, dir] of placed) {
    if (controllers && !controllers.startsWith('name=') && fs.existsSync(path.join('/sys/fs/cgroup', controllers, f.cgroup))) {
      t.equal(dir, f.cgroup, `and it is in its ${controllers} cgroup`);
    }
  }
  t.equal((await berth(f.root, ['start', id])).code, 0);
  t.equal((await berth(f.root, ['delete', '--force', id])).code, 0);
  t.same(stateEntries(f.root), []);
  t.same(cgroupLeft(f.cgroup), []);
});

t.test('exec, foreground and detached as containerd\'s shim calls it (--detach --pid-file), and run --detach', async (t) => {
  const f = fixture(t, 'exec', ['sleep', '30']);
  f.server = await startServer(f.root, { env: LAUNCH_ENV });
  const id = uniqueId('warm-exec');
  const run = await berth(f.root, ['run', '--detach', '--bundle', f.b.dir, id]);
  t.notMatch(run.stderr, /cold path/, 'run --detach was warm');
  t.equal(run.code, 0, run.stderr);
  const init = JSON.parse((await berth(f.root, ['state', id])).stdout) as { pid: number; status: string };
  t.equal(init.status, 'running');
  t.equal(ppidOf(init.pid), process.pid, 'its init was adopted by us, the subreaper');

  const fg = await berth(f.root, ['exec', id, 'sh', '-c', 'echo "in $(hostname)"; exit 5']);
  t.notMatch(fg.stderr, /cold path/, 'exec was warm');
  t.equal(fg.code, 5, 'its status came back');
  t.equal(fg.stdout, 'in berth\n', 'it ran in the container, its output on the client\'s stdout');

  const pidFile = path.join(f.root, '..', `${path.basename(f.root)}.exec.pid`);
  t.teardown(() => fs.rmSync(pidFile, { force: true }));
  const bg = await berth(f.root, ['exec', '--detach', '--pid-file', pidFile, id, 'sleep', '30']);
  t.notMatch(bg.stderr, /cold path/, 'exec --detach was warm');
  t.equal(bg.code, 0, bg.stderr);
  const pid = Number(fs.readFileSync(pidFile, 'utf8'));
  t.equal(ppidOf(pid), process.pid, 'the detached exec is ours too, not the server\'s');
  t.equal(fs.readlinkSync(`/proc/${pid}/ns/pid`), fs.readlinkSync(`/proc/${init.pid}/ns/pid`), 'in the container\'s pid namespace');
  const reaped = new Promise((r) => native().waitPid(pid, r));
  process.kill(pid, 'SIGKILL');
  await reaped;
  t.equal((await berth(f.root, ['delete', '--force', id])).code, 0);
  t.same(stateEntries(f.root), []);
});

t.test('a foreground run forwards the signals its client sends the front-end, as the cold run does', async (t) => {
  const f = fixture(t, 'signal', ['sh', '-c', 'trap "exit 42" TERM; echo ready; while :; do sleep 0.05; done']);
  f.server = await startServer(f.root, { env: LAUNCH_ENV });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'warm-launch-signal-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const out = fs.openSync(path.join(dir, 'out'), 'w+');
  const child = spawn(BERTH, ['--debug', '--root', f.root, 'run', '--bundle', f.b.dir, uniqueId('warm-signal')], { env: testEnv({ BERTH_NO_AUTOSTART: '1' }), stdio: ['ignore', out, out] });
  fs.closeSync(out);
  const code = new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  const deadline = Date.now() + 10_000;
  while (!fs.readFileSync(path.join(dir, 'out'), 'utf8').includes('ready') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  child.kill('SIGTERM');
  t.equal(await code, 42, `the container trapped the TERM sent to the front-end (${fs.readFileSync(path.join(dir, 'out'), 'utf8').trim()})`);
  t.notMatch(fs.readFileSync(path.join(dir, 'out'), 'utf8'), /cold path/);
  t.equal(f.server.child.exitCode, null, 'the server got no signal of it');
  t.same(stateEntries(f.root), []);
});

t.test('a front-end of a newer build than the server (an upgrade while it runs) goes cold, and works', async (t) => {
  const f = fixture(t, 'upgrade', ['sleep', '30']);
  f.server = await startServer(f.root, { env: LAUNCH_ENV });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'warm-launch-newer-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const newer = path.join(dir, 'berth');
  const { compile } = require(path.join(INSTALL, 'scripts', 'frontends.js')) as { compile(program: string, id: string, out: string): void };
  compile('berth', 'berth-newer-build', newer);
  const id = uniqueId('warm-upgrade');
  const created = await berth(f.root, ['create', '--bundle', f.b.dir, id], newer);
  t.match(created.stderr, /cold path: server: build id berth-newer-build, server is /, 'the server sent it cold');
  t.equal(created.code, 0, created.stderr);
  const { pid, status } = JSON.parse((await berth(f.root, ['state', id], newer)).stdout) as { pid: number; status: string };
  t.equal(status, 'created', 'the cold path created it');
  t.equal(ppidOf(pid), process.pid);
  t.equal((await berth(f.root, ['delete', '--force', id], newer)).code, 0);
  t.same(stateEntries(f.root), []);
  t.notMatch((await berth(f.root, ['list'])).stderr, /cold path/, 'the current front-end is still served');
});

t.test('a server killed at any point of a warm create leaves nothing that delete --force does not clean', async (t) => {
  const f = fixture(t, 'kill', ['sleep', '30']);
  // from before the request reaches it to after the container exists
  for (const delayMs of [0, 2, 5, 10, 20, 40, 80]) {
    const server = await startServer(f.root, { env: LAUNCH_ENV });
    const id = uniqueId(`warm-kill-${delayMs}`);
    const create = berth(f.root, ['create', '--bundle', f.b.dir, id]);
    await new Promise((r) => setTimeout(r, delayMs));
    server.child.kill('SIGKILL');
    await server.exited;
    const r = await create;
    // the front-end went cold before the server did anything (the cold create ran), or after it had claimed
    // the id (the cold create says so), or it had forked (it fails, as runc killed mid-create does)
    const outcome = r.code === 0 ? 'cold create' : r.code === 1 && /container with id exists/.test(r.stderr) ? 'id taken' : r.code === 255 ? 'failed' : 'other';
    t.not(outcome, 'other', `after ${delayMs} ms: ${outcome}: ${r.code} (${r.stderr.trim()})`);
    const del = await berth(f.root, ['delete', '--force', id]);
    t.ok(del.code === 0 || /does not exist/.test(del.stderr), `delete --force: ${del.code} ${del.stderr.trim()}`);
    fs.rmSync(path.join(f.root, 'serve.sock'), { force: true }); // the dead server's
    const deadline = Date.now() + 5000;
    while ((processesInRootfs().length || (await liveChildren()).length) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    t.same(processesInRootfs(), [], `after ${delayMs} ms: no container process is left`);
    t.same(await liveChildren(), [], `after ${delayMs} ms: no bootstrap or init is left`);
    t.same(stateEntries(f.root), [], `after ${delayMs} ms: no state`);
    t.same(cgroupLeft(f.cgroup), [], `after ${delayMs} ms: no cgroup`);
  }
  // the next call, with a new server, works warm
  f.server = await startServer(f.root, { env: LAUNCH_ENV });
  const id = uniqueId('warm-after');
  const again = await berth(f.root, ['create', '--bundle', f.b.dir, id]);
  t.notMatch(again.stderr, /cold path/, 'the next create is warm');
  t.equal(again.code, 0, again.stderr);
  t.equal((await berth(f.root, ['delete', '--force', id])).code, 0);
  t.same(stateEntries(f.root), []);
});
