// The etcd v3 store driver against Debian's etcd, started by the lab inside its world namespace; the
// clients run in a lab node namespace (the test's own namespace cannot reach the lab).
import t from 'tap';
import * as path from 'node:path';
import type { Lab } from '../../lib/lab/lab';
import { runIn, spawnIn } from '../../lib/lab/sh';
import { testLab } from '../helpers/lab';

const MOD = path.resolve(__dirname, '../../lib/cni/agent/store/etcd.js');
let lab: Lab;
let endpoint: string;

t.before(async () => {
  lab = await testLab(t, { nodes: 1, store: 'etcd', agents: false, tag: 'et' });
  endpoint = lab.state.etcd!.endpoint;
});

/** JS that runs `body` with `s` an EtcdStore on `prefix` and prints its JSON result (or the error). */
function script(prefix: string, body: string, barrier = false): string {
  return `const { EtcdStore } = require(${JSON.stringify(MOD)}); const s = EtcdStore.connect([${JSON.stringify(endpoint)}], ${JSON.stringify(prefix)});` +
    `const info = (node) => ({ node, publicIp: '10.250.0.9', vtepMac: '02:00:00:00:00:09', backend: 'vxlan' });` +
    `const policy = (ttlMs) => ({ network: '10.244.0.0/16', subnetLen: 24, ttlMs });` +
    // barrier: connect first, say ready, and start the body only when the parent says go
    (barrier ? `s.list().then(() => { process.stdout.write('ready\\n'); process.stdin.once('data', () => main()); });` : 'main();') +
    `function main() { (async () => { ${body} })().then((r) => { process.stdout.write(JSON.stringify(r ?? null)); process.exit(0); },` +
    ` (e) => { process.stdout.write(JSON.stringify({ error: e.name, message: e.message })); process.exit(0); }); }`;
}

function run<T>(prefix: string, body: string): T {
  const r = runIn(lab.node('n1').ns, process.execPath, ['-e', script(prefix, body)]);
  if (r.status !== 0) throw new Error(`client exited ${r.status}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

/** Starts n clients, waits until every one is connected, then releases them all at once. */
async function race<T>(prefix: string, n: number, body: (i: number) => string): Promise<T[]> {
  const clients = Array.from({ length: n }, (_, i) => {
    const c = spawnIn(lab.node('n1').ns, process.execPath, ['-e', script(prefix, body(i), true)], { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    const ready = new Promise<void>((resolve, reject) => {
      c.stdout!.on('data', (d) => { out += d; if (out.startsWith('ready\n')) resolve(); });
      c.once('exit', () => reject(new Error('client exited before it was ready')));
    });
    // 'close': the whole of stdout is read by then ('exit' can come first)
    const done = new Promise<T>((resolve, reject) => c.on('close', (code) => (code === 0 ? resolve(JSON.parse(out.slice(6)) as T) : reject(new Error(`client exited ${code}`)))));
    return { c, ready, done };
  });
  await Promise.all(clients.map((x) => x.ready));
  for (const x of clients) x.c.stdin!.end('go');
  return Promise.all(clients.map((x) => x.done));
}

interface L { subnet: string; node: string; vtepMac: string; error?: string; message?: string }

t.test('agents joining at the same instant never share a subnet (10 rounds of 8 processes)', async (t) => {
  for (let round = 0; round < 10; round++) {
    const prefix = `/race/${round}`;
    const leases = await race<L>(prefix, 8, (i) => `return s.acquire(info('node${i}'), policy(60000));`);
    t.same(leases.filter((l) => l.error), [], `round ${round}: no errors`);
    const subnets = leases.map((l) => l.subnet);
    t.equal(new Set(subnets).size, 8, `round ${round}: ${subnets.join(' ')}`);
    const listed = run<L[]>(prefix, 'return s.list();');
    t.same(listed.map((l) => l.subnet).sort(), [...subnets].sort(), `round ${round}: etcd holds exactly these 8`);
  }
});

t.test('a lease that is not renewed expires with its TTL; a renewed one stays', async (t) => {
  const dead = run<L>('/ttl', "return s.acquire(info('dead'), policy(2000));");
  t.match(dead.subnet, /^10\.244\.\d+\.0\/24$/);
  // kept: a 4 s TTL renewed every 0.5 s for 5 s (slack for a loaded machine); dead: 2 s, never renewed
  const kept = run<L>('/ttl', "const l = await s.acquire(info('kept'), policy(4000)); for (let i = 0; i < 10; i++) { await new Promise((r) => setTimeout(r, 500)); await s.renew(l, 4000); } return (await s.list()).map((x) => x.node).sort();");
  t.same(kept, ['kept'], 'after 5 s the renewed lease is live and the other one has expired');
  t.same(run<L[]>('/ttl', 'return s.list();').map((l) => l.node), ['kept'], 'seen from a new client too');
});

t.test('a restarted agent (new process, same node) gets its subnet back while the old lease is alive', async (t) => {
  const first = run<L>('/restart', "await s.acquire(info('other'), policy(60000)); return s.acquire(info('me'), policy(60000));");
  const second = run<L>('/restart', "return s.acquire({ ...info('me'), vtepMac: '02:00:00:00:00:42' }, policy(60000), '10.244.200.0/24');");
  t.equal(second.subnet, first.subnet, 'same subnet, the preferred one is not taken');
  const listed = run<L[]>('/restart', 'return s.list();');
  t.equal(listed.length, 2);
  t.equal(listed.find((l) => l.node === 'me')?.vtepMac, '02:00:00:00:00:42', 'attributes rewritten');
});

t.test('renew reports a lost lease when the key was taken away; release deletes the key', async (t) => {
  const lost = run<L>('/lost', "const l = await s.acquire(info('me'), policy(60000)); await s.client.delete().key('/lost/subnets/' + l.subnet.replace('/', '-')); return s.renew(l, 60000);");
  t.equal(lost.error, 'LeaseLostError');
  t.match(lost.message, /lease on 10\.244\.1\.0\/24 lost: key no longer on our etcd lease/);
  const released = run<L[]>('/rel', "const l = await s.acquire(info('me'), policy(60000)); await s.release(l); return s.list();");
  t.same(released, []);
});

t.test('an unreachable etcd fails the call within the deadline with a clear error', async (t) => {
  const r = runIn(lab.node('n1').ns, process.execPath, ['-e',
    `const { EtcdStore } = require(${JSON.stringify(MOD)}); const s = EtcdStore.connect(['http://10.250.0.77:2379'], '/x');` +
    `const t0 = Date.now(); s.list().then(() => process.exit(3), (e) => { console.log(Date.now() - t0, e.message); process.exit(0); });`], { timeoutMs: 30_000 });
  t.equal(r.status, 0, r.stderr);
  const [ms] = r.stdout.split(' ');
  t.ok(Number(ms) < 12_000, `failed after ${ms} ms`);
});
