// ECMP: the multipath set (decision.ts multipathSet), how the RIB keeps and reports it, what FibSync
// installs for it, the --bgp-max-paths flag and how `berth bgp routes` prints it.
import t from 'tap';
import { multipathSet } from '../../lib/cni/bgp/decision';
import { Rib, type BestChange } from '../../lib/cni/bgp/rib';
import { FibSync, type FibBackend, type FibEntry } from '../../lib/cni/bgp/fib';
import { fibNextHops } from '../../lib/cni/bgp/fib-nexthops';
import { BgpSpeaker } from '../../lib/cni/bgp/speaker';
import { routeStatus } from '../../lib/cni/bgp/status';
import { formatRoutes } from '../../lib/cni/agent/bgp-command';
import { parseAgentConfig } from '../../lib/cni/agent/agent-config';
import type { Route, RouteSource } from '../../lib/cni/bgp/route';
import type { PathAttributes } from '../../lib/cni/bgp/codec';

function src(address: string, over: Partial<RouteSource> = {}): RouteSource {
  return { id: address, address, asn: 65000, routerId: address, internal: false, rrClient: false, local: false, ...over };
}
const P = '10.99.1.0/24';
function route(source: RouteSource, attrs: PathAttributes = {}, prefix = P): Route {
  return { prefix, afi: 1, attrs: { origin: 0, asPath: [{ type: 2, asns: [source.asn] }], nextHop: source.address, ...attrs }, source };
}
const hops = (rs: readonly { attrs: PathAttributes }[] | undefined): string[] => (rs ?? []).map((r) => r.attrs.nextHop ?? '');

t.test('multipathSet: paths equal before the router-id tie-break are in, best first, then decision order, at most max', async (t) => {
  // eBGP from two ASes: AS paths of the same length, MED not comparable (BIRD merges these too)
  const a = route(src('10.0.0.1', { asn: 65001, routerId: '9.9.9.9' }), { med: 50 });
  const b = route(src('10.0.0.2', { asn: 65002, routerId: '1.1.1.1' }), { med: 0 });
  const c = route(src('10.0.0.3', { asn: 65003, routerId: '5.5.5.5' }));
  t.same(hops(multipathSet(b, [a, b, c], 8)), ['10.0.0.2', '10.0.0.3', '10.0.0.1'], 'best first, then router-id order');
  t.same(hops(multipathSet(b, [a, b, c], 2)), ['10.0.0.2', '10.0.0.3'], 'cut at max');
  t.same(hops(multipathSet(b, [a, b, c], 1)), ['10.0.0.2'], 'max 1: the best alone');
});

t.test('multipathSet: each step before the tie-breaks keeps a differing path out', async (t) => {
  const best = route(src('10.0.0.1', { asn: 65001 }), { med: 10, localPref: 100 });
  const differing: Array<[string, Route]> = [
    ['longer AS path', route(src('10.0.0.2', { asn: 65002 }), { med: 10, localPref: 100, asPath: [{ type: 2, asns: [65002, 65009] }] })],
    ['lower LOCAL_PREF', route(src('10.0.0.3', { asn: 65003 }), { med: 10, localPref: 90 })],
    ['worse ORIGIN', route(src('10.0.0.4', { asn: 65004 }), { med: 10, localPref: 100, origin: 2 })],
    // MED counts between paths from the same neighbouring AS only
    ['higher MED from the same neighbour AS', route(src('10.0.0.5', { asn: 65001 }), { med: 20, localPref: 100 })],
    ['iBGP against an eBGP best', route(src('10.0.0.6', { asn: 65001, internal: true }), { med: 10, localPref: 100, asPath: [{ type: 2, asns: [65001] }] })],
  ];
  for (const [why, r] of differing) t.same(hops(multipathSet(best, [best, r], 8)), ['10.0.0.1'], `${why}: not in the set`);
  const sameMedOtherAs = route(src('10.0.0.7', { asn: 65007 }), { med: 99, localPref: 100 });
  const sameMedSameAs = route(src('10.0.0.8', { asn: 65001, routerId: '200.0.0.1' }), { med: 10, localPref: 100 });
  t.same(hops(multipathSet(best, [best, sameMedOtherAs, sameMedSameAs], 8)).sort(), ['10.0.0.1', '10.0.0.7', '10.0.0.8'], 'MED of another AS is not compared; equal MED of the same AS is equal');
  const local = route(src('local', { local: true }));
  t.same(multipathSet(local, [local, best], 8), [local], 'our own route is never multipath');
});

t.test('the RIB reports a change of the multipath set, best unchanged, as multipathOnly; maxPaths 1 changes nothing', async (t) => {
  const a = src('10.0.0.1', { asn: 65001, routerId: '1.1.1.1' }), b = src('10.0.0.2', { asn: 65002, routerId: '2.2.2.2' });
  const rib = new Rib((r) => r, 4);
  let ch = rib.update(a.id, [route(a)], []);
  t.equal(ch[0].best?.multipath, undefined, 'one path: no set');
  const rb = route(b);
  ch = rib.update(b.id, [rb], []);
  t.equal(ch.length, 1);
  t.equal(ch[0].multipathOnly, true, 'a second equal path: best stays, set changes');
  t.same(hops(ch[0].best?.multipath), ['10.0.0.1', '10.0.0.2']);
  t.same(hops(rib.best(P)?.multipath), ['10.0.0.1', '10.0.0.2'], 'best() carries the set');
  t.same(hops([...rib.bestIter()][0].multipath), ['10.0.0.1', '10.0.0.2'], 'and the walk');
  t.same(rib.update(b.id, [rb], []), [], 'the same announcement again: no change');
  ch = rib.update(b.id, [route(b, { asPath: [{ type: 2, asns: [65002, 65002] }] })], []);
  t.equal(ch[0].multipathOnly, true);
  t.equal(ch[0].best?.multipath, undefined, 'prepended: out of the set');
  ch = rib.update(b.id, [route(b)], []);
  t.same(hops(ch[0].best?.multipath), ['10.0.0.1', '10.0.0.2'], 'back in');
  ch = rib.update(a.id, [], [P]);
  t.equal(ch[0].best?.source.id, b.id, 'best withdrawn: the other is best');
  t.notOk(ch[0].multipathOnly);
  t.equal(ch[0].best?.multipath, undefined, 'alone again');

  const one = new Rib((r) => r);
  one.update(a.id, [route(a)], []);
  t.same(one.update(b.id, [route(b)], []), [], 'maxPaths 1: an equal second path is no change, as before');
  t.equal(one.best(P)?.multipath, undefined);
});

/** a kernel table in memory */
class FakeKernel implements FibBackend {
  ours = new Map<string, string>();
  async list(): Promise<{ ours: FibEntry[]; others: Set<string> }> { return { ours: [...this.ours].map(([prefix, gateway]) => ({ prefix, gateway })), others: new Set() }; }
  async replace(e: FibEntry): Promise<void> { this.ours.set(e.prefix, e.gateway); }
  async remove(p: string): Promise<void> { this.ours.delete(p); }
  close(): void {}
}

t.test('FibSync installs the set as one entry of sorted distinct next hops; reconcile agrees with it', async (t) => {
  const a = src('10.0.0.9', { asn: 65001, routerId: '1.1.1.1' }), b = src('10.0.0.10', { asn: 65002, routerId: '2.2.2.2' });
  // a third path from another peer with the same next hop as b (a route server): one next hop, not two
  const c = src('10.0.0.11', { asn: 65003, routerId: '3.3.3.3' });
  const rib = new Rib((r) => r, 8);
  const k = new FakeKernel();
  const fib = new FibSync(k, 1);
  const feed = (ch: BestChange[]): void => fib.update(ch);
  feed(rib.update(a.id, [route(a)], []));
  feed(rib.update(b.id, [route(b)], []));
  feed(rib.update(c.id, [route(c, { nextHop: '10.0.0.10' })], []));
  await fib.flush();
  t.same([...k.ours], [[P, '10.0.0.10,10.0.0.9']], 'one route, two next hops');
  t.equal(await fib.reconcile(rib.bestIter()), 0, 'reconcile finds the kernel right');
  feed(rib.update(b.id, [], [P]));
  feed(rib.update(c.id, [], [P]));
  await fib.flush();
  t.same([...k.ours], [[P, '10.0.0.9']], 'the others withdrawn: a single-path route');
  feed(rib.update(a.id, [], [P]));
  await fib.flush();
  t.equal(k.ours.size, 0, 'the prefix gone: the route gone');
  t.equal(fibNextHops(route(src('local', { local: true }))), undefined, 'our own blocks stay out');
});

t.test('the speaker validates maxPaths', async (t) => {
  t.doesNotThrow(() => new BgpSpeaker({ asn: 64512, routerId: '10.0.0.100', peers: [], originate: [], maxPaths: 64 }));
  t.throws(() => new BgpSpeaker({ asn: 64512, routerId: '10.0.0.100', peers: [], originate: [], maxPaths: 0 }), /maxPaths.*1\.\.64/);
  t.throws(() => new BgpSpeaker({ asn: 64512, routerId: '10.0.0.100', peers: [], originate: [], maxPaths: 65 }), /maxPaths/);
});

t.test('--bgp-max-paths: default 1 (no field), a number up to 64, bad values name the flag', async (t) => {
  const base = ['--node', 'n1', '--backend', 'bgp'];
  t.equal(parseAgentConfig(base).bgp?.maxPaths, undefined);
  t.equal(parseAgentConfig([...base, '--bgp-max-paths', '1']).bgp?.maxPaths, undefined, '1 is the default: configs stay as they were');
  t.equal(parseAgentConfig([...base, '--bgp-max-paths', '4']).bgp?.maxPaths, 4);
  for (const v of ['0', '65', 'x']) {
    try { parseAgentConfig([...base, '--bgp-max-paths', v]); t.fail(`${v} accepted`); } catch (e) { t.equal((e as { field?: string }).field, '--bgp-max-paths', v); }
  }
});

t.test('`berth bgp routes` shows every next hop of the set', async (t) => {
  const a = src('10.0.0.1', { asn: 65001, routerId: '1.1.1.1' }), b = src('10.0.0.2', { asn: 65002, routerId: '2.2.2.2' });
  const rib = new Rib((r) => r, 2);
  rib.update(a.id, [route(a)], []);
  rib.update(b.id, [route(b)], []);
  const st = routeStatus(rib.best(P)!, true);
  t.same(st.multipath, ['10.0.0.1', '10.0.0.2']);
  t.equal(formatRoutes([st]), '10.99.1.0/24         unicast [10.0.0.1] * [AS65001i]\n\tvia 10.0.0.1\n\tvia 10.0.0.2  (multipath)\n');
  t.notOk('multipath' in routeStatus(route(a), true), 'a single path: no field');
});

t.test('over real sessions: the set reaches onBestChange, a change of the set alone sends peers nothing', async (t) => {
  const net = await import('node:net');
  const port = async (host: string): Promise<number> => {
    const s = net.createServer();
    await new Promise<void>((r) => s.listen(0, host, r));
    const p = (s.address() as import('node:net').AddressInfo).port;
    await new Promise<void>((r) => s.close(() => r()));
    return p;
  };
  const accept = { rules: [], default: 'accept' as const };
  const [m, p1, p2] = ['127.0.0.1', '127.0.0.2', '127.0.0.3'];
  const ports = [await port(m), await port(p1), await port(p2)];
  const changes: BestChange[] = [];
  const M = new BgpSpeaker({
    asn: 65000, routerId: '10.0.0.1', listen: { address: m, port: ports[0] }, originate: [], maxPaths: 2, onBestChange: (c) => changes.push(...c),
    peers: [1, 2].map((i) => ({ address: [p1, p2][i - 1], port: ports[i], asn: 65000 + i, holdTime: 9, localAddress: m, importPolicy: accept, exportPolicy: accept })),
  });
  const feeders = [1, 2].map((i) => new BgpSpeaker({
    asn: 65000 + i, routerId: `10.0.0.${i + 1}`, listen: { address: [p1, p2][i - 1], port: ports[i] }, originate: [P],
    peers: [{ address: m, port: ports[0], asn: 65000, holdTime: 9, localAddress: [p1, p2][i - 1], importPolicy: accept, exportPolicy: accept }],
  }));
  t.teardown(async () => { for (const s of [M, ...feeders]) await s.stop(); });
  for (const s of [M, ...feeders]) await s.start();
  const until = async (what: string, cond: () => boolean): Promise<void> => {
    const end = Date.now() + 10_000;
    while (!cond()) { if (Date.now() > end) throw new Error(`timed out waiting for ${what}`); await new Promise((r) => setTimeout(r, 20)); }
  };
  await until('two equal paths', () => (M.bestRoute(P)?.multipath?.length ?? 0) === 2);
  t.same(hops(M.bestRoute(P)?.multipath), [p1, p2], 'best (lower router id) first');
  t.same(hops(changes.at(-1)?.best?.multipath), [p1, p2], 'onBestChange got the set');
  await new Promise((r) => setTimeout(r, 300)); // whatever M had to send has gone
  const sent = (): number => M.peers().find((p) => p.address === p2)!.updatesOut;
  const before = sent();
  feeders[1].withdraw(P);
  await until('the set shrinks', () => M.bestRoute(P)?.multipath === undefined);
  t.equal(changes.at(-1)?.multipathOnly, true, 'only the set changed');
  feeders[1].announce(P);
  await until('the set grows again', () => M.bestRoute(P)?.multipath?.length === 2);
  await new Promise((r) => setTimeout(r, 300));
  t.equal(sent(), before, 'no UPDATE to the peers for a change of the set alone');
  feeders[0].withdraw(P);
  await until('best moves', () => M.bestRoute(P)?.source.address === p2);
  // the new best came from p2: what M had sent p2 (p1's path) is withdrawn from it
  await until('an UPDATE to p2', () => sent() > before).catch(() => undefined);
  t.ok(sent() > before, 'a change of the best path is sent as before');
});
