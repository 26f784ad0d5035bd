import t from 'tap';
import { FibSync, type FibBackend, type FibEntry } from '../../lib/cni/bgp/fib';
import type { BestChange } from '../../lib/cni/bgp/rib';
import type { Route } from '../../lib/cni/bgp/route';

/** a kernel table in memory that records each request */
class FakeKernel implements FibBackend {
  ours = new Map<string, string>();
  others = new Set<string>(['192.168.0.0/24']);
  calls: string[] = [];
  async list(): Promise<{ ours: FibEntry[]; others: Set<string> }> {
    this.calls.push('list');
    return { ours: [...this.ours].map(([prefix, gateway]) => ({ prefix, gateway })), others: new Set(this.others) };
  }
  async replace(e: FibEntry): Promise<void> {
    this.calls.push(`replace ${e.prefix} ${e.gateway}`);
    if (e.gateway === '0.0.0.0') throw new Error('ENETUNREACH');
    this.ours.set(e.prefix, e.gateway);
  }
  async remove(p: string): Promise<void> { this.calls.push(`remove ${p}`); this.ours.delete(p); }
  close(): void {}
}

function r(prefix: string, nextHop: string, local = false): Route {
  return { prefix, afi: 1, attrs: { nextHop }, source: { id: local ? 'local' : '10.0.0.2', address: '10.0.0.2', asn: 1, routerId: '1.1.1.1', internal: false, rrClient: false, local } };
}
const add = (x: Route): BestChange => ({ prefix: x.prefix, best: x });
const del = (p: string): BestChange => ({ prefix: p });

t.test('changes are coalesced per prefix and applied in one batch with one kernel dump', async (t) => {
  const k = new FakeKernel();
  const f = new FibSync(k, 10);
  f.update([add(r('10.1.0.0/16', '10.0.0.2')), add(r('10.2.0.0/16', '10.0.0.2'))]);
  f.update([add(r('10.1.0.0/16', '10.0.0.3')), add(r('10.244.0.0/24', '', true))]);
  f.update([del('10.2.0.0/16')]);
  await f.flush();
  t.same(k.calls, ['list', 'replace 10.1.0.0/16 10.0.0.3'], 'last change wins, local blocks stay out, add+remove cancels');
  t.equal(f.batches, 1);
  k.calls = [];
  f.update([add(r('10.1.0.0/16', '10.0.0.3'))]);
  await f.flush();
  t.same(k.calls, ['list'], 'already right: nothing written');
});

t.test('prefixes owned by another protocol are left alone; kernel errors are recorded, not thrown', async (t) => {
  const k = new FakeKernel();
  const f = new FibSync(k, 10);
  f.update([add(r('192.168.0.0/24', '10.0.0.2')), add(r('10.9.0.0/16', '0.0.0.0')), del('192.168.0.0/24')]);
  await f.flush();
  f.update([add(r('192.168.0.0/24', '10.0.0.2'))]);
  await f.flush();
  t.notOk(k.calls.some((c) => c.includes('192.168.0.0/24')), 'never replaced or removed');
  t.same(f.errors.map((e) => [e.prefix, e.op]), [['10.9.0.0/16', 'replace'], ['192.168.0.0/24', 'replace']]);
});

t.test('reconcile removes stale protocol-186 routes and installs missing ones; the timer batches on its own', async (t) => {
  const k = new FakeKernel();
  k.ours.set('10.7.0.0/16', '10.0.0.9'); // left by an earlier run
  k.ours.set('10.1.0.0/16', '10.0.0.2'); // already right
  const f = new FibSync(k, 10);
  await f.reconcile([r('10.1.0.0/16', '10.0.0.2'), r('10.3.0.0/16', '10.0.0.2')]);
  t.same([...k.ours.keys()].sort(), ['10.1.0.0/16', '10.3.0.0/16']);
  t.notOk(k.calls.includes('replace 10.1.0.0/16 10.0.0.2'), 'right route untouched');
  f.update([del('10.3.0.0/16')]);
  await new Promise((res) => setTimeout(res, 50));
  t.notOk(k.ours.has('10.3.0.0/16'), 'applied by the batch timer');
  await f.removeAll();
  t.equal(k.ours.size, 0);
  f.close();
});
