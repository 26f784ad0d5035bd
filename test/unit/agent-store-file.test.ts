import t from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { FileStore } from '../../lib/cni/agent/store/file';
import { LeaseLostError, NodeInfo, NoFreeSubnetError } from '../../lib/cni/agent/store/types';

const policy = { network: '10.244.0.0/16', subnetLen: 24, ttlMs: 10_000 };
const info = (node: string): NodeInfo => ({ node, publicIp: '10.250.0.1', vtepMac: '02:00:00:00:00:01', backend: 'vxlan' });

function tmp(t: { teardown(fn: () => void): void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-agent-store-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

t.test('a node keeps its subnet across acquires; different nodes get different subnets', async (t) => {
  const s = new FileStore(tmp(t));
  const a = await s.acquire(info('a'), policy);
  const b = await s.acquire(info('b'), policy);
  t.equal(a.subnet, '10.244.1.0/24');
  t.equal(b.subnet, '10.244.2.0/24');
  const again = await s.acquire({ ...info('a'), vtepMac: '02:00:00:00:00:99' }, policy, '10.244.9.0/24');
  t.equal(again.subnet, a.subnet, 'live lease wins over preferred');
  t.equal((await s.list()).find((l) => l.node === 'a')?.vtepMac, '02:00:00:00:00:99', 'attributes refreshed');
  t.equal((await s.list()).length, 2);
});

t.test('leases expire after the TTL; renew extends, and fails once expired', async (t) => {
  let now = 1_000_000;
  const s = new FileStore(tmp(t), () => now);
  const a = await s.acquire(info('a'), policy);
  now += 6000;
  const r = await s.renew(a, policy.ttlMs);
  t.equal(r.expiresAt, now + policy.ttlMs);
  now += 9000;
  t.equal((await s.list()).length, 1, 'renewed lease still live');
  now += 2000;
  t.equal((await s.list()).length, 0, 'expired lease not listed');
  await t.rejects(s.renew(r, policy.ttlMs), LeaseLostError);
  const b = await s.acquire(info('b'), policy);
  t.equal(b.subnet, a.subnet, 'an expired subnet is free again');
  await t.rejects(s.renew(r, policy.ttlMs), { message: /now held by b/ });
});

t.test('release frees the subnet; preferred subnet is taken when free', async (t) => {
  const s = new FileStore(tmp(t));
  const a = await s.acquire(info('a'), policy, '10.244.7.0/24');
  t.equal(a.subnet, '10.244.7.0/24');
  await s.release(a);
  t.same(await s.list(), []);
  await s.release(a); // twice is fine
});

t.test('an exhausted network and a corrupt store file give clear errors', async (t) => {
  const dir = tmp(t);
  const s = new FileStore(dir);
  const small = { network: '10.9.0.0/23', subnetLen: 24, ttlMs: 10_000 };
  await s.acquire(info('a'), small);
  await t.rejects(s.acquire(info('b'), small), NoFreeSubnetError);
  await t.rejects(s.acquire(info('b'), small), { message: /^network: no free \/24 left in 10.9.0.0\/23/ });
  await t.rejects(s.acquire(info('b'), { ...small, network: '10.9.0.0/33' }), { message: /^network: invalid IPv4 CIDR/ });
  fs.writeFileSync(path.join(dir, 'leases.json'), '{not json');
  await t.rejects(s.list(), { message: /^--store-dir: .*leases.json: corrupt store/ });
});

/** N processes that all call acquire at the same instant; returns their subnets. */
async function race(dir: string, n: number): Promise<string[]> {
  const mod = path.resolve(__dirname, '../../lib/cni/agent/store/file.js');
  const at = Date.now() + 400;
  const code = `const { FileStore } = require(${JSON.stringify(mod)}); while (Date.now() < ${at}); ` +
    `new FileStore(${JSON.stringify(dir)}).acquire({ node: process.argv[1], publicIp: '10.0.0.1', vtepMac: '', backend: 'vxlan' }, ` +
    `{ network: '10.244.0.0/16', subnetLen: 24, ttlMs: 60000 }).then((l) => process.stdout.write(l.subnet));`;
  return Promise.all(Array.from({ length: n }, (_, i) => new Promise<string>((resolve, reject) => {
    const c = spawn(process.execPath, ['-e', code, `node${i}`], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    c.stdout.on('data', (d) => (out += d));
    // 'close', not 'exit': a child can exit before its stdout has been read, which left out empty under load
    c.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`child exited ${code}`))));
  })));
}

t.test('concurrent joins from separate processes never share a subnet (20 rounds of 8)', async (t) => {
  for (let round = 0; round < 20; round++) {
    const dir = tmp(t);
    const subnets = await race(dir, 8);
    t.equal(new Set(subnets).size, 8, `round ${round}: ${subnets.join(' ')}`);
    const stored = JSON.parse(fs.readFileSync(path.join(dir, 'leases.json'), 'utf8')) as { leases: Record<string, unknown> };
    t.equal(Object.keys(stored.leases).length, 8, `round ${round}: all 8 leases stored`);
  }
});
