// The native front-ends against a server on <root>/serve.sock (lib/server/protocol.ts). The server here is a fake
// (test/helpers/fake-serve.ts, and fake-serve-fds.py where descriptors must arrive: Node cannot receive
// SCM_RIGHTS) because lib/server/ is built on another branch; the real server's tests take over the warm
// half once it is merged. Checked: the request as decoded (program, argv, env, cwd, build id, descriptor
// targets), EXIT relayed, output the server writes into the passed fds reaching the client's, GO_COLD / EOF /
// a bad frame going cold with bin/<program>'s outcome, BERTH_NO_SERVER=1 never connecting, and a server run
// by another user getting nothing.
import t, { type Test } from 'tap';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildId, cold, frontend, runProgram, tempRoot } from '../helpers/frontend';
import { fakeServe, fdServe, PYTHON, type Answer } from '../helpers/fake-serve';
import { requireTools } from '../helpers/tools';

t.before(() => requireTools([PYTHON, 'setpriv', frontend('berth'), frontend('berth-bridge')]));

const UNKNOWN = ['state', 'front-end-unknown'];

/** A temp root with a fake server answering `answer`, both gone at the end of the test. */
async function withFake(t: Test, answer: Answer | (() => Answer)) {
  const { root, remove } = tempRoot('serve');
  const fake = await fakeServe(root, answer);
  t.teardown(async () => { await fake.close(); remove(); });
  return { root, fake };
}

t.test('EXIT: the status is relayed and the request carries what the protocol lists', async (t) => {
  const { root, fake } = await withFake(t, { exit: 3 });
  const cwd = fs.mkdtempSync(path.join(root, 'cwd-'));
  const r = await runProgram(frontend('berth'), ['--root', root, ...UNKNOWN], { cwd, env: { FRONT_END_MARK: 'a=b c' } });
  t.same(r, { code: 3, stdout: '', stderr: '' }, 'the server\'s status, and nothing of the cold path\'s output');
  t.equal(fake.requests.length, 1);
  const req = fake.requests[0];
  t.equal(req.version, 1);
  t.equal(req.buildId, buildId(), 'the build id of dist/build-id');
  t.equal(req.program, 'berth');
  t.equal(req.cwd, cwd);
  t.same(req.argv, ['--root', root, ...UNKNOWN], 'argv without argv[0]');
  t.ok(req.env.includes('FRONT_END_MARK=a=b c'), 'the whole environment, K=V');
  t.ok(req.env.includes(`PATH=${process.env.PATH}`), 'PATH among them');
  t.same(req.fds, [0, 1, 2], 'stdio only');

  // longer than one sendmsg may take (the rest follows on the stream); one argument is at most 128 KiB
  const big = Array.from({ length: 4 }, (_, i) => String(i).repeat(100_000));
  const r2 = await runProgram(frontend('berth'), ['--root', root, 'state', ...big]);
  t.equal(r2.code, 3);
  t.same(fake.requests[1].argv, ['--root', root, 'state', ...big]);
});

t.test('EXIT statuses 0 and 255 come back as they are, for a plugin too', async (t) => {
  let status = 0;
  const { root, fake } = await withFake(t, () => ({ exit: status }));
  t.equal((await runProgram(frontend('berth-bridge'), [], { env: { BERTH_ROOT: root, CNI_COMMAND: 'VERSION' } })).code, 0);
  t.equal(fake.requests[0].program, 'berth-bridge', 'the compiled-in program');
  t.same(fake.requests[0].argv, []);
  status = 255;
  t.equal((await runProgram(frontend('berth-bridge'), [], { env: { BERTH_ROOT: root, CNI_COMMAND: 'VERSION' } })).code, 255);
  t.equal(fake.requests.length, 2);
});

t.test('--root: the CLI uses the root it names (both spellings), plugins BERTH_ROOT', async (t) => {
  const { root, fake } = await withFake(t, { exit: 4 });
  t.equal((await runProgram(frontend('berth'), [`--root=${root}`, '--debug', 'list'])).code, 4);
  t.equal((await runProgram(frontend('berth'), ['--log', '/dev/null', '-root', root, 'list'])).code, 4);
  // a --root after the command is the command's, not the global one: this call must not reach the fake
  const other = tempRoot('other');
  t.teardown(other.remove);
  const r = await runProgram(frontend('berth'), ['--root', other.root, 'list', '--root', root]);
  t.equal(fake.requests.length, 2);
  t.same(r, await runProgram(cold('berth'), ['--root', other.root, 'list', '--root', root]), 'cold');
  // a plugin ignores --root-looking arguments and BERTH_ROOT elsewhere
  const p = await runProgram(frontend('berth-ipam'), ['--root', root], { env: { CNI_COMMAND: 'VERSION', BERTH_ROOT: other.root } });
  t.equal(p.code, 0);
  t.equal(fake.requests.length, 2, 'the plugin went to BERTH_ROOT, where nobody listens');
});

t.test('GO_COLD, hang-up before a frame and an unknown frame all give bin/berth\'s outcome', async (t) => {
  for (const answer of [{ goCold: 'build id mismatch' }, 'hang-up', 'bad-frame'] as Answer[]) {
    const { root, fake } = await withFake(t, answer);
    const control = await runProgram(cold('berth'), ['--root', root, ...UNKNOWN]);
    const r = await runProgram(frontend('berth'), ['--root', root, ...UNKNOWN]);
    t.same(r, control, `${JSON.stringify(answer)}: cold`);
    t.equal(r.code, 1);
    t.equal(fake.requests.length, 1, 'the server was asked first');
  }
  const { root } = await withFake(t, { goCold: 'busy' });
  const d = await runProgram(frontend('berth'), ['--debug', '--root', root, ...UNKNOWN]);
  t.match(d.stderr, /^berth: cold path: server: busy\n/, '--debug says why');
  const cni = await runProgram(frontend('berth-bridge'), [], { env: { BERTH_ROOT: root, CNI_COMMAND: 'VERSION' }, input: '{"cniVersion":"1.0.0"}' });
  t.same(cni, await runProgram(cold('berth-bridge'), [], { env: { BERTH_ROOT: root, CNI_COMMAND: 'VERSION' }, input: '{"cniVersion":"1.0.0"}' }), 'a plugin reads its stdin on the cold path');
});

t.test('BERTH_NO_SERVER=1 never connects', async (t) => {
  const { root, fake } = await withFake(t, { exit: 9 });
  const r = await runProgram(frontend('berth'), ['--root', root, ...UNKNOWN], { env: { BERTH_NO_SERVER: '1' } });
  t.same(r, await runProgram(cold('berth'), ['--root', root, ...UNKNOWN], { env: { BERTH_NO_SERVER: '1' } }));
  const p = await runProgram(frontend('berth-ipam'), [], { env: { BERTH_NO_SERVER: '1', BERTH_ROOT: root, CNI_COMMAND: 'VERSION' } });
  t.equal(p.code, 0);
  t.equal(fake.connections, 0);
  // the control: the same call without the switch does reach the fake
  t.equal((await runProgram(frontend('berth'), ['--root', root, ...UNKNOWN])).code, 9);
  t.equal(fake.connections, 1);
});

t.test('--preserve-fds N: fds 3..3+N-1 are listed and passed; a closed one goes cold without connecting', async (t) => {
  const { root, fake } = await withFake(t, { exit: 0 });
  const a = fs.openSync('/dev/null', 'r');
  const b = fs.openSync('/dev/null', 'r');
  t.teardown(() => { fs.closeSync(a); fs.closeSync(b); });
  t.equal((await runProgram(frontend('berth'), ['--root', root, 'run', '--preserve-fds', '2', 'x'], { extraFds: [a, b] })).code, 0);
  t.same(fake.requests[0].fds, [0, 1, 2, 3, 4]);
  t.equal((await runProgram(frontend('berth'), ['--root', root, 'exec', '--preserve-fds=1', 'x', 'true'], { extraFds: [a] })).code, 0);
  t.same(fake.requests[1].fds, [0, 1, 2, 3]);
  // fd 4 is not open in the client: nothing can be passed for it, the cold path reports what berth reports
  const args = ['--root', root, 'run', '--preserve-fds', '2', 'front-end-none'];
  const r = await runProgram(frontend('berth'), args, { extraFds: [a] });
  t.equal(fake.requests.length, 2, 'no request');
  t.equal(fake.connections, 2, 'no connection either');
  t.not(r.code, 0);
});

t.test('descriptors arrive: the server\'s writes into fds 1, 2 and the preserved fds, and stdin it reads', async (t) => {
  const { root, remove } = tempRoot('fds');
  t.teardown(remove);
  const server = await fdServe(root, 7);
  t.teardown(() => server.close());
  const files = [path.join(root, 'fd3'), path.join(root, 'fd4')];
  const fds = files.map((f) => fs.openSync(f, 'w'));
  t.teardown(() => fds.forEach((fd) => fs.closeSync(fd)));
  const r = await runProgram(frontend('berth'), ['--root', root, 'run', '--preserve-fds', '2', 'c1'], { extraFds: fds, input: 'stdin for the server' });
  t.same(r, { code: 7, stdout: `stdout from the server: berth --root ${root} run --preserve-fds 2 c1\n`, stderr: 'stderr from the server\n' });
  t.equal(fs.readFileSync(files[0], 'utf8'), 'preserved fd 3\n');
  t.equal(fs.readFileSync(files[1], 'utf8'), 'preserved fd 4\n');
  const [req] = server.requests();
  t.equal(req.stdin, 'stdin for the server');
  t.same(req.fds, [0, 1, 2, 3, 4]);

  // a CNI call: the config the runtime pipes in reaches the server through fd 0
  const cni = await runProgram(frontend('berth-bridge'), [], { env: { BERTH_ROOT: root, CNI_COMMAND: 'ADD' }, input: '{"cniVersion":"1.0.0"}' });
  t.same(cni, { code: 7, stdout: 'stdout from the server: berth-bridge \n', stderr: 'stderr from the server\n' });
  t.equal(server.requests()[1].stdin, '{"cniVersion":"1.0.0"}');
});

t.test('a server run by another user gets no descriptors and no request: the call goes cold', async (t) => {
  const { root, remove } = tempRoot('peer');
  t.teardown(remove);
  fs.chmodSync(root, 0o777); // so that nobody can bind its socket and write its log there
  const server = await fdServe(root, 5, ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups']);
  t.teardown(() => server.close());
  fs.chmodSync(path.join(root, 'serve.sock'), 0o666); // reachable: only the peer check stops the hand-off
  const r = await runProgram(frontend('berth'), ['--root', root, ...UNKNOWN]);
  t.same(r, await runProgram(cold('berth'), ['--root', root, ...UNKNOWN]), 'cold');
  t.same(server.requests(), []);
});
