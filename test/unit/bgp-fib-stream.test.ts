import t from 'tap';
import { FibSync, type FibBackend, type FibEntry, type FibScan } from '../../lib/cni/bgp/fib';
import { joinNextHops } from '../../lib/cni/bgp/fib-nexthops';
import type { Route } from '../../lib/cni/bgp/route';

/**
 * A kernel table in memory whose dump streams: scan() hands routes over in parts of `partSize`, with an
 * event-loop turn between parts (as datagrams arrive), in the order of `order` (ours and others mixed).
 */
class StreamingKernel implements FibBackend {
  ours = new Map<string, string>();
  others = new Set<string>();
  calls: string[] = [];
  /** runs between two parts of a dump: a change arriving while the dump streams */
  betweenParts?: (part: number) => void;
  constructor(private readonly partSize = 2, private readonly othersFirst = false) {}
  async list(): Promise<{ ours: FibEntry[]; others: Set<string> }> {
    this.calls.push('list');
    return { ours: [...this.ours].map(([prefix, gateway]) => ({ prefix, gateway })), others: new Set(this.others) };
  }
  async scan(into: FibScan): Promise<void> {
    this.calls.push('scan');
    const ours = [...this.ours].map(([p, gw]) => () => into.ours(p, gw));
    const others = [...this.others].map((p) => () => into.other(p));
    const all = this.othersFirst ? [...others, ...ours] : [...ours, ...others];
    for (let i = 0, part = 0; i < all.length; i += this.partSize, part++) {
      for (const f of all.slice(i, i + this.partSize)) f();
      this.betweenParts?.(part);
      await new Promise((res) => setImmediate(res));
    }
    this.calls.push('scan done');
  }
  async replace(e: FibEntry, exclusive?: boolean): Promise<void> {
    this.calls.push(`replace ${e.prefix} ${e.gateway}`);
    if (exclusive && this.others.has(e.prefix)) throw Object.assign(new Error('EEXIST'), { code: 'EEXIST' });
    this.ours.set(e.prefix, e.gateway);
  }
  async remove(p: string): Promise<void> { this.calls.push(`remove ${p}`); this.ours.delete(p); }
  close(): void {}
}

function r(prefix: string, nextHop: string, afi: 1 | 2 = 1): Route {
  return { prefix, afi, attrs: { nextHop }, source: { id: '10.0.0.2', address: '10.0.0.2', asn: 1, routerId: '1.1.1.1', internal: false, rrClient: false, local: false } };
}

/** a Loc-RIB as the speaker offers it: a live walk and a lookup, each counted */
function rib(routes: Route[]): { best: Map<string, Route>; walk(): Iterable<Route>; lookup(p: string): Route | undefined; walks: number; lookups: number } {
  const best = new Map(routes.map((x) => [x.prefix, x]));
  const o = {
    best, walks: 0, lookups: 0,
    *walk(): Iterable<Route> { o.walks++; yield* best.values(); },
    lookup(p: string): Route | undefined { o.lookups++; return best.get(p); },
  };
  return o;
}

t.test('a streamed dump is compared route by route: no list(), one walk of the Loc-RIB, one lookup per kernel route', async (t) => {
  const k = new StreamingKernel(2);
  k.ours.set('10.1.0.0/16', '10.0.0.2'); // right
  k.ours.set('10.2.0.0/16', '10.0.0.9'); // wrong gateway
  k.ours.set('10.7.0.0/16', '10.0.0.2'); // stale
  k.ours.set('10.8.0.0/16', '10.0.0.3,10.0.0.2'); // ECMP set, dumped in another order than FibSync writes it
  k.others.add('192.168.0.0/24');
  const loc = rib([r('10.1.0.0/16', '10.0.0.2'), r('10.2.0.0/16', '10.0.0.2'), r('10.3.0.0/16', '10.0.0.2'), r('192.168.0.0/24', '10.0.0.2')]);
  const ecmp: Route = { ...r('10.8.0.0/16', '10.0.0.2'), multipath: [r('10.8.0.0/16', '10.0.0.2'), r('10.8.0.0/16', '10.0.0.3')] };
  loc.best.set(ecmp.prefix, ecmp);
  // the fake's set as the kernel dump reads back (joinNextHops sorts): equal to what FibSync wants
  k.ours.set('10.8.0.0/16', joinNextHops(['10.0.0.3', '10.0.0.2']));
  const f = new FibSync(k, 10);
  const fixed = await f.reconcile(loc.walk(), undefined, (p) => loc.lookup(p));
  t.equal(fixed, 3, 'the wrong gateway, the stale route and the missing one');
  t.notOk(k.calls.includes('list'), 'the whole-table list is never built');
  t.equal(loc.walks, 1, 'the Loc-RIB is walked once, not copied into a map first');
  t.equal(loc.lookups, 4, 'one lookup per route of ours in the dump');
  t.same(Object.fromEntries(k.ours), { '10.1.0.0/16': '10.0.0.2', '10.2.0.0/16': '10.0.0.2', '10.3.0.0/16': '10.0.0.2', '10.8.0.0/16': '10.0.0.2,10.0.0.3' });
  t.notOk(k.calls.some((c) => c.includes('192.168.0.0/24')), 'another protocol\'s prefix is never written');
  t.notOk(k.calls.some((c) => c.includes('10.1.0.0/16') || c.includes('10.8.0.0/16')), 'right routes untouched');
  t.equal(f.installed, 4);
  t.equal(await f.reconcile(loc.walk(), undefined, (p) => loc.lookup(p)), 0, 'then nothing to do');
  f.close();
});

t.test('a prefix of ours that another protocol also holds, later in the dump, is not rewritten', async (t) => {
  const k = new StreamingKernel(1);
  k.ours.set('10.5.0.0/24', '10.0.0.9'); // ours, wrong gateway: dumped first
  k.others.add('10.5.0.0/24'); // an operator's route on the same prefix (another metric), dumped after it
  const loc = rib([r('10.5.0.0/24', '10.0.0.2')]);
  const f = new FibSync(k, 10);
  t.equal(await f.reconcile(loc.walk(), undefined, (p) => loc.lookup(p)), 0, 'nothing written, as with a whole dump');
  t.notOk(k.calls.some((c) => c.startsWith('replace')), 'no replace');
  f.close();
});

t.test('changes arriving while the dump streams are not undone, and their batch waits for the dump', async (t) => {
  const k = new StreamingKernel(1);
  for (let i = 1; i <= 6; i++) k.ours.set(`10.${i}.0.0/16`, '10.0.0.2');
  const loc = rib([1, 2, 3, 4, 5, 6].map((i) => r(`10.${i}.0.0/16`, '10.0.0.2')));
  const f = new FibSync(k, 60_000, 1); // a single change is a full batch: it would be written at once
  await f.loadKernel();
  k.calls = [];
  k.betweenParts = (part) => {
    if (part !== 0) return;
    // after 10.1/16 was compared and before 10.6/16 is: 10.1/16 withdrawn, 10.6/16 moves, 10.9/16 arrives
    loc.best.delete('10.1.0.0/16');
    loc.best.set('10.6.0.0/16', r('10.6.0.0/16', '10.0.0.7'));
    loc.best.set('10.9.0.0/16', r('10.9.0.0/16', '10.0.0.2'));
    f.update([{ prefix: '10.1.0.0/16' }, { prefix: '10.6.0.0/16', best: loc.best.get('10.6.0.0/16') }, { prefix: '10.9.0.0/16', best: loc.best.get('10.9.0.0/16') }]);
  };
  const fixed = await f.reconcile(loc.walk(), undefined, (p) => loc.lookup(p));
  await f.flush();
  t.equal(fixed, 0, 'reconcile itself fixed nothing: all three are update()\'s');
  const firstWrite = k.calls.findIndex((c) => c.startsWith('replace') || c.startsWith('remove'));
  t.ok(firstWrite > k.calls.indexOf('scan done'), 'no batch wrote while the dump streamed');
  t.same(Object.fromEntries(k.ours), { '10.2.0.0/16': '10.0.0.2', '10.3.0.0/16': '10.0.0.2', '10.4.0.0/16': '10.0.0.2', '10.5.0.0/16': '10.0.0.2', '10.6.0.0/16': '10.0.0.7', '10.9.0.0/16': '10.0.0.2' });
  t.equal(k.calls.filter((c) => c === 'remove 10.1.0.0/16').length, 1, 'the withdrawal written once');
  f.close();
});

t.test('per-family reconcile over a streamed dump leaves the other family alone', async (t) => {
  const k = new StreamingKernel(3, true);
  k.ours.set('10.1.0.0/16', '10.0.0.2').set('10.2.0.0/16', '10.0.0.2').set('fd00:1::/64', 'fd00::2');
  const loc = rib([r('10.1.0.0/16', '10.0.0.2'), r('10.3.0.0/16', '10.0.0.2'), r('fd00:2::/64', 'fd00::2', 2)]);
  const f = new FibSync(k, 10);
  t.equal(await f.reconcile(loc.walk(), 4, (p) => loc.lookup(p)), 2);
  t.same([...k.ours.keys()].sort(), ['10.1.0.0/16', '10.3.0.0/16', 'fd00:1::/64'], 'IPv6 neither removed nor added');
  t.equal(await f.reconcile(loc.walk(), 6, (p) => loc.lookup(p)), 2);
  t.same([...k.ours.keys()].sort(), ['10.1.0.0/16', '10.3.0.0/16', 'fd00:2::/64'], 'then IPv6 alone');
  f.close();
});

t.test('a dump that fails half-way leaves no half record: the next batch dumps again', async (t) => {
  const k = new StreamingKernel(1);
  k.ours.set('10.1.0.0/16', '10.0.0.2').set('10.2.0.0/16', '10.0.0.2');
  const f = new FibSync(k, 10);
  await f.loadKernel();
  const scan = k.scan.bind(k);
  k.scan = async (into) => { into.ours('10.1.0.0/16', '10.0.0.2'); throw new Error('ENOBUFS'); };
  await t.rejects(f.reconcile([r('10.1.0.0/16', '10.0.0.2')]), /ENOBUFS/);
  k.scan = scan;
  k.calls = [];
  f.update([{ prefix: '10.2.0.0/16' }]);
  await f.flush();
  t.same(k.calls, ['scan', 'scan done', 'remove 10.2.0.0/16'], 'dumped afresh, then the removal of a route the failed dump never reached');
  f.close();
});
