import t from 'tap';
import { FibSync, QUEUE_HIGH_WATER, type FibBackend, type FibEntry } from '../../lib/cni/bgp/fib';
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
  async replace(e: FibEntry, exclusive?: boolean): Promise<void> {
    this.calls.push(`replace ${e.prefix} ${e.gateway}`);
    if (e.gateway === '0.0.0.0') throw new Error('ENETUNREACH');
    // like NLM_F_EXCL: a create-only write fails on a prefix another protocol holds
    if (exclusive && this.others.has(e.prefix)) throw Object.assign(new Error('EEXIST'), { code: 'EEXIST' });
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

t.test('changes are coalesced per prefix and applied in one batch; the kernel is dumped once, not per batch', async (t) => {
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
  t.same(k.calls, [], 'already right: nothing written, and no second dump');
});

t.test('a full queue starts a batch at once, and changes arriving meanwhile form the next one', async (t) => {
  const k = new FakeKernel();
  const f = new FibSync(k, 60_000, 3); // the timer would never fire within the test
  f.update([add(r('10.1.0.0/24', '10.0.0.2')), add(r('10.2.0.0/24', '10.0.0.2'))]);
  await new Promise((res) => setImmediate(res));
  t.equal(k.ours.size, 0, 'below batchSize: waits for the timer');
  f.update([add(r('10.3.0.0/24', '10.0.0.2'))]);
  f.update([add(r('10.4.0.0/24', '10.0.0.2')), del('10.1.0.0/24')]); // while the first batch runs
  await f.flush();
  t.same([...k.ours.keys()].sort(), ['10.2.0.0/24', '10.3.0.0/24', '10.4.0.0/24'], 'both batches applied in order');
  t.equal(f.batches, 2, 'the second batch held what arrived during the first');
  t.equal(k.calls.filter((c) => c === 'list').length, 1, 'one dump for both');
  f.close();
});

t.test('a prefix another protocol took after the dump is not replaced: the create-only write fails and it is left alone', async (t) => {
  const k = new FakeKernel();
  const f = new FibSync(k, 10);
  f.update([add(r('10.1.0.0/24', '10.0.0.2'))]);
  await f.flush(); // dumps: 10.5.0.0/24 is free at this point
  k.others.add('10.5.0.0/24'); // e.g. an operator's static route
  f.update([add(r('10.5.0.0/24', '10.0.0.2'))]);
  await f.flush();
  t.notOk(k.ours.has('10.5.0.0/24'), 'not installed over the other route');
  t.same(f.errors.map((e) => [e.prefix, e.message]), [['10.5.0.0/24', 'prefix owned by another routing protocol: left alone']]);
  k.calls = [];
  f.update([add(r('10.5.0.0/24', '10.0.0.3')), del('10.5.0.0/24')]);
  await f.flush();
  t.same(k.calls, [], 'remembered as foreign: no further writes, no delete of it');
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
  t.equal(await f.reconcile([r('10.1.0.0/16', '10.0.0.2'), r('10.3.0.0/16', '10.0.0.2')]), 2, 'two prefixes needed a write');
  t.same([...k.ours.keys()].sort(), ['10.1.0.0/16', '10.3.0.0/16']);
  k.ours.delete('10.3.0.0/16'); // removed behind FibSync's back
  t.equal(await f.reconcile([r('10.1.0.0/16', '10.0.0.2'), r('10.3.0.0/16', '10.0.0.2')]), 1, 'a fresh dump finds it missing');
  t.ok(k.ours.has('10.3.0.0/16'), 'and puts it back');
  t.equal(await f.reconcile([r('10.1.0.0/16', '10.0.0.2'), r('10.3.0.0/16', '10.0.0.2')]), 0, 'nothing to do when right');
  t.notOk(k.calls.includes('replace 10.1.0.0/16 10.0.0.2'), 'right route untouched');
  f.update([del('10.3.0.0/16')]);
  await new Promise((res) => setTimeout(res, 50));
  t.notOk(k.ours.has('10.3.0.0/16'), 'applied by the batch timer');
  await f.removeAll();
  t.equal(k.ours.size, 0);
  f.close();
});

t.test('a failed kernel dump applies nothing, keeps the batch queued and is recorded; the next flush applies it', async (t) => {
  const k = new FakeKernel();
  let failures = 1;
  const list = k.list.bind(k);
  k.list = async () => { if (failures-- > 0) throw new Error('ENOBUFS'); return list(); };
  const f = new FibSync(k, 5);
  f.update([add(r('10.1.0.0/24', '10.0.0.2'))]);
  await new Promise((res) => setTimeout(res, 30)); // the timer's flush fails
  t.equal(k.ours.size, 0, 'nothing written');
  t.same(f.errors.map((e) => e.message), ['kernel dump failed: ENOBUFS']);
  f.update([add(r('10.2.0.0/24', '10.0.0.2'))]);
  await f.flush();
  t.same([...k.ours.keys()].sort(), ['10.1.0.0/24', '10.2.0.0/24'], 'the kept batch and the new change both applied');
  f.close();
});

t.test('reconcile never undoes a change that arrived after its snapshot of the Loc-RIB (it yields on a big table)', async (t) => {
  const k = new FakeKernel();
  const f = new FibSync(k, 60_000, 1); // every change is a batch of its own, written at once
  const best = Array.from({ length: 3 * 4096 }, (_, i) => r(`10.${i >> 8}.${i & 255}.0/24`, '10.0.0.2'));
  const snapshot = best.slice(1); // the snapshot lacks best[0] and still holds best[1]
  const run = f.reconcile(snapshot);
  // while reconcile builds its wanted set: best[0] comes, best[1] goes
  await new Promise((res) => setImmediate(res));
  f.update([add(best[0]), del(best[1].prefix)]);
  await run;
  await f.flush();
  t.ok(k.ours.has(best[0].prefix), 'the newer route stays in the kernel');
  t.notOk(k.ours.has(best[1].prefix), 'the newer withdrawal is not undone');
  t.equal(k.ours.size, best.length - 1, 'every other snapshot route installed');
  f.close();
});

t.test('reconcile of one family leaves the other family\'s routes alone (its selection may still be deferred)', async (t) => {
  const k = new FakeKernel();
  k.ours.set('10.1.0.0/16', '10.0.0.2').set('10.2.0.0/16', '10.0.0.2').set('fd00:1::/64', 'fd00::2');
  const f = new FibSync(k, 10);
  t.equal(await f.loadKernel(), 3, 'the previous run\'s routes, counted');
  const v6 = (prefix: string, nextHop: string): Route => ({ ...r(prefix, nextHop), afi: 2 });
  // the Loc-RIB: 10.1/16 kept, 10.2/16 gone, a new 10.3/16; IPv6 not selected yet (its route missing)
  const fixed = await f.reconcile([r('10.1.0.0/16', '10.0.0.2'), r('10.3.0.0/16', '10.0.0.2'), v6('fd00:2::/64', 'fd00::2')], 4);
  t.equal(fixed, 2);
  t.same([...k.ours.keys()].sort(), ['10.1.0.0/16', '10.3.0.0/16', 'fd00:1::/64'], 'IPv4 put right; IPv6 untouched, neither removed nor added');
  await f.reconcile([v6('fd00:2::/64', 'fd00::2')], 6);
  t.same([...k.ours.keys()].sort(), ['10.1.0.0/16', '10.3.0.0/16', 'fd00:2::/64'], 'then IPv6 alone');
  f.close();
});

t.test('backpressure: with a batch in the kernel and QUEUE_HIGH_WATER changes behind it, the producer waits for that batch', async (t) => {
  let release!: () => void;
  const gate = new Promise<void>((res) => { release = res; });
  const k = new FakeKernel();
  const slow: FibBackend = {
    list: () => k.list(),
    replace: async (e, x) => { await gate; return k.replace(e, x); },
    remove: (p) => k.remove(p),
    close: () => {},
  };
  const f = new FibSync(slow, 60_000, 4);
  const v4 = (i: number): string => `10.${(i >> 8) & 255}.${i & 255}.0/24`;
  t.equal(f.backpressure(), undefined, 'nothing running: no wait');
  f.update([0, 1, 2, 3].map((i) => add(r(v4(i), '10.0.0.2')))); // a full batch starts at once
  await new Promise((res) => setImmediate(res));
  f.update(Array.from({ length: QUEUE_HIGH_WATER - 1 }, (_, i) => add(r(v4(i + 4), '10.0.0.2'))));
  t.equal(f.backpressure(), undefined, 'one below the high water mark: no wait');
  f.update([add(r(v4(QUEUE_HIGH_WATER + 4), '10.0.0.2'))]);
  const wait = f.backpressure();
  t.ok(wait, 'at the mark, behind a running batch: a promise to wait on');
  let waited = false;
  void wait!.then(() => { waited = true; });
  await new Promise((res) => setTimeout(res, 20));
  t.notOk(waited, 'still waiting while the kernel holds the batch');
  release();
  await wait;
  t.ok(k.ours.has(v4(0)), 'resolved once the running batch was written');
  await f.flush();
  t.equal(k.ours.size, QUEUE_HIGH_WATER + 4, 'every queued change written afterwards');
  f.close();
});
