// The agent's control socket answers root only: mode 0600 keeps other users from connecting, and the
// SO_PEERCRED check refuses them even when the socket has been made reachable (chmod 0666 here). The client
// runs as nobody (uid 65534) through the same askAgent() that `berth bgp peers` uses.
import t from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { ControlServer, CONTROL_SOCKET } from '../../lib/cni/agent/control/server';
import { askAgent } from '../../lib/cni/agent/control/client';

const NOBODY = 65534;
const clientModule = path.join(__dirname, '..', '..', 'lib', 'cni', 'agent', 'control', 'client.js');

/** askAgent(dir, 'peers') as uid/gid nobody: what it printed on stdout (the result or the error; stderr carries
 * the test runner's own noise about a directory nobody cannot write). Asynchronous: the server answering it
 * runs in this process. */
function askAsNobody(dir: string): Promise<{ status: number | null; out: string }> {
  const script = `require(${JSON.stringify(clientModule)}).askAgent(${JSON.stringify(dir)}, 'peers')` +
    '.then((r) => console.log(JSON.stringify(r)), (e) => { console.log(e.message); process.exitCode = 3; })';
  const child = spawn(process.execPath, ['-e', script], { uid: NOBODY, gid: NOBODY, env: { PATH: process.env.PATH } });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.resume();
  return new Promise((resolve) => child.on('close', (status) => resolve({ status, out: out.trim() })));
}

t.test('agent.sock answers root and refuses every other uid, even when the socket is reachable', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-agent-control-'));
  fs.chmodSync(dir, 0o755); // nobody may reach the socket's directory: only the socket's own checks stand
  let asked = 0;
  const server = new ControlServer(path.join(dir, CONTROL_SOCKET), () => ({ peers: () => { asked++; return [{ peer: '10.0.0.1' }]; } }));
  await server.listen();
  t.teardown(async () => { await server.close(); fs.rmSync(dir, { recursive: true, force: true }); });

  t.equal(fs.statSync(path.join(dir, CONTROL_SOCKET)).mode & 0o777, 0o600, 'the socket is made 0600');
  t.same(await askAgent(dir, 'peers'), [{ peer: '10.0.0.1' }], 'root gets the answer');
  t.equal(asked, 1);

  const denied = await askAsNobody(dir);
  t.equal(denied.status, 3, 'nobody cannot use a 0600 socket');
  t.match(denied.out, /EACCES/, denied.out);

  fs.chmodSync(path.join(dir, CONTROL_SOCKET), 0o666); // as an admin's mistake or a bind mount might
  const refused = await askAsNobody(dir);
  t.equal(refused.status, 3, 'nobody is refused on a reachable socket');
  t.match(refused.out, /^peers: agent: refused: uid 65534 is not root$/, refused.out);
  t.equal(asked, 1, 'the handler never ran for nobody');
  t.same(await askAgent(dir, 'peers'), [{ peer: '10.0.0.1' }], 'root still gets its answer');
});
