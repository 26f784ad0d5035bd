// The runc-compatible command line against real containers: lifecycle, state JSON, pid file, exec,
// pause/resume, kill --all, delete --force, list, ps, logs.
import t from 'tap';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { berth, bundle, leftovers } from '../helpers/run';
import { uniqueId } from '../helpers/bundle';

const sh = (script: string) => ['/bin/sh', '-c', script];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function setup(t: { teardown(fn: () => unknown): void }, args: string[]) {
  const b = bundle(args);
  const id = uniqueId('cli');
  const g = ['--root', b.root];
  t.teardown(async () => {
    await berth([...g, 'delete', '--force', id]);
    b.cleanup();
  });
  return { b, id, g };
}

async function status(g: string[], id: string): Promise<string> {
  const r = await berth([...g, 'state', id]);
  return r.code === 0 ? JSON.parse(r.stdout).status : `error: ${r.stderr.trim()}`;
}

t.test('state transitions: create -> created, start -> running, exit -> stopped, delete -> gone', async (t) => {
  const { b, id, g } = setup(t, ['/bin/sleep', '1000']);
  const pidFile = path.join(b.dir, 'init.pid');
  const created = await berth([...g, 'create', '--bundle', b.dir, '--pid-file', pidFile, id]);
  t.equal(created.code, 0, created.stderr);
  const pidText = fs.readFileSync(pidFile, 'utf8');
  t.match(pidText, /^\d+$/, 'pid file: decimal, no newline');
  const st = JSON.parse((await berth([...g, 'state', id])).stdout);
  t.same(Object.keys(st).sort(), ['annotations', 'bundle', 'created', 'id', 'ociVersion', 'owner', 'pid', 'rootfs', 'status'].sort());
  t.equal(st.status, 'created');
  t.equal(st.pid, Number(pidText));
  t.equal(st.bundle, b.dir);
  t.ok(!Number.isNaN(Date.parse(st.created)), 'created is an RFC 3339 time');
  t.ok(fs.existsSync(`/proc/${st.pid}`), 'the process exists, waiting');
  t.equal((await berth([...g, 'start', id])).code, 0);
  t.equal(await status(g, id), 'running');
  const again = await berth([...g, 'start', id]);
  t.equal(again.code, 1);
  t.match(again.stderr, /cannot start an already running container/);
  t.equal((await berth([...g, 'kill', id, 'KILL'])).code, 0);
  for (let i = 0; i < 100 && (await status(g, id)) !== 'stopped'; i++) await sleep(20);
  t.equal(await status(g, id), 'stopped');
  const killStopped = await berth([...g, 'kill', id, '9']);
  t.equal(killStopped.code, 1);
  t.match(killStopped.stderr, /container not running/);
  t.equal((await berth([...g, 'delete', id])).code, 0);
  const gone = await berth([...g, 'state', id]);
  t.equal(gone.code, 1);
  t.match(gone.stderr, /does not exist/);
  t.same(leftovers(b.root, id), []);
});

t.test('exec runs a process in the running container, with its env, user and exit code', async (t) => {
  const { b, id, g } = setup(t, ['/bin/sleep', '1000']);
  t.equal((await berth([...g, 'run', '--detach', '--bundle', b.dir, id])).code, 0);
  const r = await berth([...g, 'exec', '--env', 'X=42', '--user', '1000:1000', id, '/bin/sh', '-c', 'echo $$ $X $(id -u); cat /proc/1/cmdline | tr "\\0" " "; exit 7']);
  t.equal(r.code, 7);
  const [line1, line2] = r.stdout.trim().split('\n');
  const [pid, x, uid] = line1.split(' ');
  t.ok(Number(pid) > 1, 'a new pid in the container pid namespace');
  t.equal(x, '42');
  t.equal(uid, '1000');
  t.equal(line2.trim(), '/bin/sleep 1000', 'sees the container init as pid 1');
  const procFile = path.join(b.dir, 'process.json');
  fs.writeFileSync(procFile, JSON.stringify({ args: ['/bin/hostname'], cwd: '/', user: { uid: 0, gid: 0 }, env: ['PATH=/bin'] }));
  const viaFile = await berth([...g, 'exec', '--process', procFile, id]);
  t.equal(viaFile.code, 0, viaFile.stderr);
  t.equal(viaFile.stdout.trim(), 'berth');
  const pidFile = path.join(b.dir, 'exec.pid');
  const detached = await berth([...g, 'exec', '--detach', '--pid-file', pidFile, id, '/bin/sleep', '1000']);
  t.equal(detached.code, 0, detached.stderr);
  const ps = JSON.parse((await berth([...g, 'ps', '--format', 'json', id])).stdout) as number[];
  t.ok(ps.includes(Number(fs.readFileSync(pidFile, 'utf8'))), 'the detached exec is in the container cgroup');
  t.equal(ps.length, 2);
});

t.test('pause stops progress and resume restarts it', async (t) => {
  const { b, id, g } = setup(t, sh('i=0; while true; do i=$((i+1)); echo $i > /tmp/counter; usleep 10000; done'));
  t.equal((await berth([...g, 'run', '-d', '--bundle', b.dir, id])).code, 0);
  const counter = path.join(b.spec.root!.path, 'tmp', 'counter');
  // the shell truncates, then writes: a read in between sees an empty file, which is not a count
  const read = async (): Promise<number> => {
    for (let i = 0; i < 500; i++) {
      const text = fs.readFileSync(counter, 'utf8').trim();
      if (text) return Number(text);
      await sleep(2);
    }
    return 0;
  };
  await sleep(200);
  t.equal((await berth([...g, 'pause', id])).code, 0);
  t.equal(await status(g, id), 'paused');
  const frozen = fs.readFileSync(counter, 'utf8');
  await sleep(300);
  t.equal(fs.readFileSync(counter, 'utf8'), frozen, 'no progress while paused (not even a write begun)');
  t.equal((await berth([...g, 'resume', id])).code, 0);
  t.equal(await status(g, id), 'running');
  const before = Number(frozen.trim() || '0');
  let now = before;
  for (let i = 0; i < 100 && now <= before; i++) {
    await sleep(30);
    now = await read();
  }
  t.ok(now > before, `progress after resume: ${before} -> ${now}`);
  fs.rmSync(counter, { force: true });
});

t.test('kill --all reaches every process of the container; delete --force cleans up a running one', async (t) => {
  const { b, id, g } = setup(t, sh('trap "" TERM; sleep 1000 & sleep 1000 & wait'));
  t.equal((await berth([...g, 'run', '-d', '--bundle', b.dir, id])).code, 0);
  await sleep(100);
  const pids = JSON.parse((await berth([...g, 'ps', '--format', 'json', id])).stdout) as number[];
  t.equal(pids.length, 3);
  t.equal((await berth([...g, 'kill', '--all', id, 'KILL'])).code, 0);
  for (let i = 0; i < 100 && pids.some((p) => fs.existsSync(`/proc/${p}/cmdline`) && fs.readFileSync(`/proc/${p}/stat`, 'utf8').split(' ')[2] !== 'Z'); i++) await sleep(20);
  t.notOk(pids.some((p) => fs.existsSync(`/proc/${p}`) && fs.readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1]?.[0] !== 'Z'), 'all processes gone');
  t.equal((await berth([...g, 'delete', id])).code, 0);

  const id2 = uniqueId('cli');
  t.equal((await berth([...g, 'run', '-d', '--bundle', b.dir, id2])).code, 0);
  const refused = await berth([...g, 'delete', id2]);
  t.equal(refused.code, 1);
  t.match(refused.stderr, /is not stopped: running/);
  t.equal((await berth([...g, 'delete', '--force', id2])).code, 0);
  t.same(leftovers(b.root, id2), []);
  t.equal((await berth([...g, 'delete', '--force', 'never-existed'])).code, 0, 'delete --force of nothing succeeds');
});

t.test('list and ps formats', async (t) => {
  const { b, id, g } = setup(t, ['/bin/sleep', '1000']);
  t.equal((await berth([...g, 'create', '--bundle', b.dir, id])).code, 0);
  const json = JSON.parse((await berth([...g, 'list', '--format', 'json'])).stdout);
  t.equal(json.length, 1);
  t.equal(json[0].id, id);
  t.equal(json[0].status, 'created');
  t.equal((await berth([...g, 'list', '-q'])).stdout, `${id}\n`);
  const table = (await berth([...g, 'list'])).stdout.split('\n');
  t.match(table[0], /^ID\s+PID\s+STATUS\s+BUNDLE\s+CREATED\s+OWNER$/);
  t.match(table[1], new RegExp(`^${id}\\s+\\d+\\s+created\\s`));
  const ps = (await berth([...g, 'ps', id])).stdout.split('\n');
  t.match(ps[0], /PID/);
  t.match(ps[1], /sleep 1000|berth|node/);
});

t.test('run in the foreground returns the exit code; --log json records errors', async (t) => {
  const { b, id, g } = setup(t, sh('echo out; exit 3'));
  const r = await berth([...g, 'run', '--bundle', b.dir, id]);
  t.equal(r.code, 3);
  t.equal(r.stdout, 'out\n');
  t.equal(await status(g, id), `error: berth: container "${id}" does not exist`, 'run removes the container');
  const log = path.join(b.dir, 'log.json');
  const bad = await berth(['--log', log, '--log-format', 'json', ...g, 'state', 'nope']);
  t.equal(bad.code, 1);
  const lines = fs.readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const last = lines[lines.length - 1];
  t.equal(last.level, 'error');
  t.equal(last.msg, 'container "nope" does not exist');
  t.ok(!Number.isNaN(Date.parse(last.time)));
  t.equal(bad.stderr.trim(), `berth: ${last.msg}`, 'stderr carries the same message on one line');
});

t.test('spec writes a runc-like config; features and --version answer', async (t) => {
  const { b, g } = setup(t, ['/bin/true']);
  const dir = path.join(b.dir, 'spec');
  fs.mkdirSync(dir);
  t.equal((await berth(['spec', '--bundle', dir])).code, 0);
  const spec = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
  t.same(spec.process.args, ['sh']);
  t.equal(spec.root.path, 'rootfs');
  const again = await berth(['spec', '--bundle', dir]);
  t.equal(again.code, 1);
  t.match(again.stderr, /exists/);
  const features = JSON.parse((await berth([...g, 'features'])).stdout);
  t.ok(features.linux.namespaces.includes('time'));
  t.ok(features.linux.seccomp.enabled);
  t.match((await berth(['--version'])).stdout, /^berth version \d+\.\d+\.\d+/);
});

t.test('--no-pivot (MS_MOVE + chroot) and annotations in the state', async (t) => {
  const { b, id, g } = setup(t, ['/bin/sh', '-c', 'ls / | wc -l']);
  b.spec.annotations = { 'org.example.team': 'runtime' };
  b.write();
  const r = await berth([...g, 'run', '--no-pivot', '--keep', '--bundle', b.dir, id]);
  t.equal(r.code, 0, r.stderr);
  t.ok(Number(r.stdout.split('\n')[0]) >= 5, 'sees the busybox root');
  const st = JSON.parse((await berth([...g, 'state', id])).stdout);
  t.same(st.annotations, { 'org.example.team': 'runtime' });
  t.equal(st.status, 'stopped', '--keep leaves the stopped container');
});
