// `berth serve` (issue 13): one server per root, root-only, answering runc's query commands with the same
// bytes as the cold path, refusing what it must not take (GO_COLD), and leaving when idle.
import t from 'tap';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as c from '../../lib/runtime/container';
import { bundle } from '../helpers/run';
import { call, exitStatus } from '../helpers/serve-client';
import { BERTH, startServer, tempRoot } from '../helpers/serve-process';

const COLD_ENV = { ...process.env, BERTH_NO_SERVER: '1', BERTH_NO_AUTOSTART: '1' };

function cold(argv: string[], cwd = '/'): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BERTH, ...argv], { env: COLD_ENV, cwd, encoding: 'utf8' });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

t.test('queries through the server match the cold path byte for byte', async (t) => {
  const root = tempRoot('queries');
  const b = bundle(['sleep', '30']);
  const s = await startServer(root);
  t.teardown(async () => {
    await c.del('q1', { root, force: true }).catch(() => undefined);
    await s.stop();
    b.cleanup();
    fs.rmSync(root, { recursive: true, force: true });
  });
  await c.create({ id: 'q1', root, bundle: b.dir });
  const cases = [
    ['--root', root, 'state', 'q1'],
    ['--root', root, 'list'],
    ['--root', root, 'list', '--format', 'json'],
    ['--root', root, 'list', '-q'],
    ['--root', root, 'ps', '--format', 'json', 'q1'],
    ['--root', root, 'state', 'nope'],
    ['--root', root, 'features'],
    ['--root', root, '--version'],
    ['--root', root, 'kill', 'nope'],
    ['--root', root, 'events', '--stats', 'nope'],
    ['--root', root],
  ];
  for (const argv of cases) {
    const warm = await call(root, { argv, env: { PATH: process.env.PATH ?? '' } });
    const want = cold(argv);
    t.equal(exitStatus(warm), want.status, `${argv.slice(2).join(' ')}: status`);
    t.equal(warm.stdout, want.stdout, `${argv.slice(2).join(' ')}: stdout`);
    t.equal(warm.stderr, want.stderr, `${argv.slice(2).join(' ')}: stderr`);
  }
  // the cwd is the request's: `spec` writes config.json there
  const dir = fs.mkdtempSync(path.join(root, 'spec-'));
  t.equal(exitStatus(await call(root, { argv: ['--root', root, 'spec'], cwd: dir })), 0);
  t.ok(fs.existsSync(path.join(dir, 'config.json')), 'spec wrote into the request\'s cwd');
  t.notOk(fs.existsSync('/config.json'), 'not into the server\'s');
  // kill and delete --force through the server change what is on disk
  t.equal(exitStatus(await call(root, { argv: ['--root', root, 'kill', 'q1', 'KILL'] })), 0);
  const del = await call(root, { argv: ['--root', root, 'delete', '--force', 'q1'] });
  t.equal(exitStatus(del), 0, del.stderr);
  t.notOk(fs.existsSync(path.join(root, 'q1')), 'delete --force removed the state');
  t.equal(cold(['--root', root, 'state', 'q1']).status, 1, 'the cold path sees it gone too');
});

t.test('what the server must not take goes cold', async (t) => {
  const root = tempRoot('cold');
  const s = await startServer(root);
  t.teardown(async () => { await s.stop(); fs.rmSync(root, { recursive: true, force: true }); });
  // a launch with a console socket: the plan would carry the server's descriptor for it
  for (const cmd of ['create', 'run', 'exec']) {
    const r = await call(root, { argv: ['--root', root, cmd, '--console-socket', '/nowhere.sock', 'x'] });
    t.match(r.reply, { type: 'go-cold', reason: /console socket runs cold/ }, `${cmd} with a console socket goes cold`);
    t.equal(r.stdout + r.stderr, '', `${cmd}: the server wrote nothing`);
  }
  const old = await call(root, { argv: ['--root', root, 'list'], buildId: 'berth-older-build' });
  t.same(old.reply?.type, 'go-cold', 'a front-end of another build goes cold');
  t.match(old.reply, { reason: /build id berth-older-build/ });
  const v2 = await call(root, { argv: ['--root', root, 'list'], version: 2 });
  t.match(v2.reply, { type: 'go-cold', reason: /protocol version 2/ });
  const other = await call(root, { argv: ['--root', '/run/berth-not-this-one', 'list'] });
  t.match(other.reply, { type: 'go-cold', reason: /not this server's/ });
  const bogus = await call(root, { argv: ['--root', root, 'bogus'] });
  t.match(bogus.reply, { type: 'go-cold', reason: /"bogus" runs cold/ }, 'an unknown command: the cold path says why');
  const unknown = await call(root, { program: 'not-a-berth-program', argv: [] });
  t.match(unknown.reply, { type: 'go-cold', reason: /not served/ });
});

t.test('a server started with BERTH_SERVE_LAUNCH=0 sends every launch cold', async (t) => {
  const root = tempRoot('nolaunch');
  const s = await startServer(root, { env: { ...process.env, BERTH_SERVE_LAUNCH: '0' } });
  t.teardown(async () => { await s.stop(); fs.rmSync(root, { recursive: true, force: true }); });
  for (const cmd of ['create', 'start', 'run', 'exec']) {
    const r = await call(root, { argv: ['--root', root, cmd, 'x'] });
    t.match(r.reply, { type: 'go-cold', reason: new RegExp(`"${cmd}" runs cold`) }, `${cmd} goes cold`);
    t.equal(r.stdout + r.stderr, '', `${cmd}: the server wrote nothing`);
  }
  t.equal(exitStatus(await call(root, { argv: ['--root', root, 'list'] })), 0, 'queries are still served');
});

t.test('one server per root; a non-root client is refused', async (t) => {
  const root = tempRoot('single');
  const s = await startServer(root);
  t.teardown(async () => { await s.stop(); fs.rmSync(root, { recursive: true, force: true }); });
  t.equal((fs.statSync(path.join(root, 'serve.sock')).mode & 0o777), 0o600, 'socket mode 0600');
  t.equal(fs.readFileSync(path.join(root, 'serve.pid'), 'utf8').trim(), String(s.child.pid), 'pid file names the server');
  const second = spawnSync(process.execPath, [BERTH, '--root', root, 'serve', '--foreground'], { encoding: 'utf8', timeout: 10000 });
  t.equal(second.status, 1, 'a second server for the root exits');
  t.match(second.stderr, new RegExp(`already serves .* \\(pid ${s.child.pid}\\)`));
  t.equal(exitStatus(await call(root, { argv: ['--root', root, 'list'] })), 0, 'the first still answers');

  // as nobody: a raw request (no descriptors), reading whatever comes back
  const client = `
    const net = require('net');
    const payload = Buffer.alloc(0);
    const c = net.connect(process.argv[1]);
    const chunks = [];
    c.on('error', (e) => { console.log('error ' + e.code); });
    c.on('connect', () => {
      const str = (s) => { const b = Buffer.from(s); const l = Buffer.alloc(4); l.writeUInt32LE(b.length); return [l, b]; };
      const u32 = (v) => { const b = Buffer.alloc(4); b.writeUInt32LE(v); return b; };
      const p = Buffer.concat([...str(process.argv[2]), ...str('berth'), ...str('/'), u32(1), ...str('list'), u32(0), u32(0)]);
      c.write(Buffer.concat([u32(0x31545242), u32(1), u32(p.length), p]));
    });
    c.on('data', (d) => chunks.push(d));
    c.on('end', () => { const b = Buffer.concat(chunks); console.log(b.length ? 'frame ' + b.readUInt32LE(0) + ' ' + b.subarray(12).toString() : 'no frame'); });
  `;
  const nobody = (): string => execFileSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '-e', client, path.join(root, 'serve.sock'), fs.readFileSync(path.join(__dirname, '..', '..', 'build-id'), 'utf8').trim()], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } }).trim();
  // the root is 0700 and the socket 0600: nobody cannot even connect
  fs.chmodSync(root, 0o755);
  t.equal(nobody(), 'error EACCES', 'mode 0600 keeps nobody out');
  // with the mode opened (by mistake, say), SO_PEERCRED still refuses
  fs.chmodSync(path.join(root, 'serve.sock'), 0o666);
  t.match(nobody(), /^frame 2 refused: uid 65534 is not root$/, 'uid 65534 refused: GO_COLD, nothing run');
  await new Promise((r) => setTimeout(r, 200)); // execFileSync held our loop: let the server's log lines in
  t.match(s.log(), /refused pid \d+: uid 65534 is not root/);
});

t.test('serve --existing-root (what an auto-start runs) leaves a vanished root alone', async (t) => {
  const parent = tempRoot('existing');
  t.teardown(() => fs.rmSync(parent, { recursive: true, force: true }));
  const gone = path.join(parent, 'removed-by-its-test');
  const r = spawnSync(process.execPath, [BERTH, '--root', gone, 'serve', '--existing-root'], { encoding: 'utf8', timeout: 10000 });
  t.equal(r.status, 0, r.stderr);
  t.equal(r.stderr, '');
  t.notOk(fs.existsSync(gone), 'the root was not created (no serve.log behind a test that removed it)');
});

t.test('the server leaves after its idle time, and removes its socket and pid file', async (t) => {
  const root = tempRoot('idle');
  t.teardown(() => fs.rmSync(root, { recursive: true, force: true }));
  const s = await startServer(root, { idleSeconds: 1 });
  t.equal(exitStatus(await call(root, { argv: ['--root', root, 'list'] })), 0);
  const started = Date.now();
  t.equal(await s.exited, 0, 'exited by itself, status 0');
  t.ok(Date.now() - started >= 900, 'not before the idle time');
  t.notOk(fs.existsSync(path.join(root, 'serve.sock')), 'socket removed');
  t.notOk(fs.existsSync(path.join(root, 'serve.pid')), 'pid file removed');
});

t.test('a cold call starts a server in the background, unless told not to', async (t) => {
  const root = tempRoot('autostart');
  t.teardown(async () => {
    let pid = 0;
    try { pid = Number(fs.readFileSync(path.join(root, 'serve.pid'), 'utf8')); process.kill(pid, 'SIGTERM'); } catch { /* not started */ }
    // the server removes its socket and pid file as it goes: let it finish before the directory goes
    for (const deadline = Date.now() + 10000; pid > 0 && Date.now() < deadline; await new Promise((r) => setTimeout(r, 50))) {
      try { process.kill(pid, 0); } catch { break; }
    }
    fs.rmSync(root, { recursive: true, force: true });
  });
  const env = { ...process.env };
  delete env.BERTH_NO_AUTOSTART;
  delete env.BERTH_NO_SERVER;
  const off = spawnSync(process.execPath, [BERTH, '--root', root, 'list'], { env: { ...env, BERTH_NO_AUTOSTART: '1' }, encoding: 'utf8' });
  t.equal(off.status, 0);
  await new Promise((r) => setTimeout(r, 500));
  t.notOk(fs.existsSync(path.join(root, 'serve.pid')), 'BERTH_NO_AUTOSTART=1: no server');
  // the call has an extra inherited descriptor (fd 3, as --preserve-fds or a shim's pipe would be): the
  // server it starts must not keep it, or our end would never see EOF
  const on = spawn(process.execPath, [BERTH, '--root', root, 'list'], { env, stdio: ['ignore', 'ignore', 'ignore', 'pipe'] });
  const extra = on.stdio[3] as import('node:net').Socket;
  const eof = new Promise<boolean>((resolve) => {
    extra.on('data', () => undefined);
    extra.on('close', () => resolve(true));
    setTimeout(() => resolve(false), 8000);
  });
  t.equal(await new Promise((r) => on.once('exit', r)), 0);
  t.ok(await eof, 'the inherited fd 3 closed once the cold call exited: the server holds no copy');
  const deadline = Date.now() + 10000;
  while (!fs.existsSync(path.join(root, 'serve.sock')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  t.ok(fs.existsSync(path.join(root, 'serve.sock')), 'a server came up');
  t.match(fs.readFileSync(path.join(root, 'serve.log'), 'utf8'), /serving/, 'it logs to <root>/serve.log');
  t.equal(exitStatus(await call(root, { argv: ['--root', root, 'list', '-q'] })), 0, 'and answers');
});
