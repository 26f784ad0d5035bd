// OCI hooks: all six kinds run in order with the state on stdin; a failing hook undoes the create.
import t from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { berth, bundle, leftovers } from '../helpers/run';
import { uniqueId } from '../helpers/bundle';

/** A hook that appends "<name> <status> <pid>" (from the state JSON on stdin) to a log file. */
function recorder(name: string, log: string, sh = '/bin/sh') {
  return {
    path: sh,
    args: ['sh', '-c', `read -r state; st=$(echo "$state" | sed 's/.*"status":"\\([a-z]*\\)".*/\\1/'); pid=$(echo "$state" | sed 's/.*"pid":\\([0-9]*\\).*/\\1/'); echo "${name} $st $pid $HOOK_ENV" >> ${log}`],
    env: [`HOOK_ENV=${name}-env`],
  };
}

t.test('hooks run in order with state, args and env; container hooks run inside the container', async (t) => {
  const logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-hooks-'));
  fs.chmodSync(logDir, 0o777);
  const hostLog = path.join(logDir, 'order');
  const b = bundle(['/bin/sleep', '1000'], (s) => {
    s.mounts!.push({ destination: '/hooklog', type: 'bind', source: logDir, options: ['rbind'] });
    s.hooks = {
      prestart: [recorder('prestart', hostLog)],
      createRuntime: [recorder('createRuntime', hostLog)],
      // before pivot_root: the container's mount namespace still sees host paths
      createContainer: [recorder('createContainer', hostLog)],
      // after pivot_root: paths are the container's, so /bin/sh is busybox and the log is the bind mount
      startContainer: [recorder('startContainer', '/hooklog/order', '/bin/sh')],
      poststart: [recorder('poststart', hostLog)],
      poststop: [recorder('poststop', hostLog)],
    };
  });
  const id = uniqueId('hooks');
  const g = ['--root', b.root];
  t.teardown(async () => { await berth([...g, 'delete', '--force', id]); b.cleanup(); fs.rmSync(logDir, { recursive: true, force: true }); });
  const created = await berth([...g, 'create', '--bundle', b.dir, id]);
  t.equal(created.code, 0, created.stderr);
  const pid = JSON.parse((await berth([...g, 'state', id])).stdout).pid;
  t.equal((await berth([...g, 'start', id])).code, 0);
  // the start hooks run after `start` returns its answer: wait for them (generously: CI machines are loaded)
  for (let i = 0; i < 500 && !fs.readFileSync(hostLog, 'utf8').includes('startContainer'); i++) await new Promise((r) => setTimeout(r, 20));
  t.equal((await berth([...g, 'delete', '--force', id])).code, 0);
  const lines = fs.readFileSync(hostLog, 'utf8').trim().split('\n');
  const names = lines.map((l) => l.split(' ')[0]);
  t.same(names.slice(0, 3), ['prestart', 'createRuntime', 'createContainer']);
  t.ok(names.indexOf('startContainer') > 2 && names.indexOf('poststart') > 2, 'start hooks after the create hooks');
  t.equal(names[names.length - 1], 'poststop');
  for (const l of lines) {
    const [name, status, hookPid, env] = l.split(' ');
    t.equal(Number(hookPid), pid, `${name} got the container pid`);
    t.equal(env, `${name}-env`, `${name} got its env`);
    t.ok(['creating', 'created', 'running', 'stopped'].includes(status), `${name} got a status (${status})`);
  }
  t.equal(lines.find((l) => l.startsWith('poststop'))!.split(' ')[1], 'stopped');
});

for (const kind of ['prestart', 'createRuntime', 'createContainer'] as const) {
  t.test(`a failing ${kind} hook fails create and leaves nothing`, async (t) => {
    const b = bundle(['/bin/sleep', '1000'], (s) => {
      s.hooks = { [kind]: [{ path: '/bin/true' }, { path: '/bin/sh', args: ['sh', '-c', 'exit 3'] }] };
    });
    const id = uniqueId('hookfail');
    t.teardown(() => b.cleanup());
    const r = await berth(['--root', b.root, 'create', '--bundle', b.dir, id]);
    t.equal(r.code, 1);
    t.match(r.stderr, new RegExp(`hooks\\.${kind}\\[1\\].*exit status 3`));
    t.same(leftovers(b.root, id), []);
  });
}

t.test('a hook that outlives its timeout is killed and fails create', async (t) => {
  const b = bundle(['/bin/true'], (s) => { s.hooks = { prestart: [{ path: '/bin/sleep', args: ['sleep', '30'], timeout: 1 }] }; });
  const id = uniqueId('hooktime');
  t.teardown(() => b.cleanup());
  const started = Date.now();
  const r = await berth(['--root', b.root, 'create', '--bundle', b.dir, id]);
  t.equal(r.code, 1);
  t.match(r.stderr, /hooks\.prestart\[0\].*timed out after 1s/);
  t.ok(Date.now() - started < 15_000, 'did not wait for the hook');
  t.same(leftovers(b.root, id), []);
});
