import t from 'tap';
import { compareRoutes, decidingStep, selectBest } from '../../lib/cni/bgp/decision';
import { Rib } from '../../lib/cni/bgp/rib';
import { prefixKey } from '../../lib/cni/bgp/prefix-key';
import { evaluatePolicy, prefixMatches, type Policy } from '../../lib/cni/bgp/policy';
import { AdjRibOut, buildUpdates, exportRoute, type ExportTarget } from '../../lib/cni/bgp/export';
import type { Route, RouteSource } from '../../lib/cni/bgp/route';
import type { PathAttributes } from '../../lib/cni/bgp/codec';
import { decodeMessage, encodeMessage } from '../../lib/cni/bgp/codec';

function src(id: string, over: Partial<RouteSource> = {}): RouteSource {
  return { id, address: id, asn: 65002, routerId: id, internal: false, rrClient: false, local: false, ...over };
}
function route(prefix: string, attrs: PathAttributes, source: RouteSource): Route {
  return { prefix, afi: prefix.includes(':') ? 2 : 1, attrs: { origin: 0, asPath: [{ type: 2, asns: [source.asn] }], nextHop: source.address, ...attrs }, source };
}
const P = '10.1.0.0/16';

t.test('the decision process applies RFC 4271 §9.1.2.2 steps in order', async (t) => {
  const a = src('10.0.0.2'), b = src('10.0.0.3');
  const cases: Array<[string, Route, Route]> = [
    ['local-pref', route(P, { localPref: 200, asPath: [{ type: 2, asns: [1, 2, 3] }] }, a), route(P, { localPref: 100 }, b)],
    ['as-path', route(P, { asPath: [{ type: 2, asns: [1] }, { type: 1, asns: [5, 6, 7] }] }, a), route(P, { asPath: [{ type: 2, asns: [1, 2, 3] }] }, b)],
    ['origin', route(P, { origin: 0 }, a), route(P, { origin: 1 }, b)],
    ['med', route(P, { med: 5 }, a), route(P, { med: 10 }, b)],
    ['ebgp-over-ibgp', route(P, {}, a), route(P, {}, src('10.0.0.1', { internal: true, asn: 65002 }))],
    ['router-id', route(P, {}, src('10.0.0.9', { routerId: '1.1.1.1' })), route(P, {}, src('10.0.0.3', { routerId: '2.2.2.2' }))],
    ['cluster-list', route(P, { originatorId: '3.3.3.3', clusterList: ['1.1.1.1'] }, a), route(P, { originatorId: '3.3.3.3', clusterList: ['1.1.1.1', '2.2.2.2'] }, b)],
    ['peer-address', route(P, {}, src('10.0.0.2', { routerId: '5.5.5.5' })), route(P, {}, src('10.0.0.10', { routerId: '5.5.5.5' }))],
  ];
  for (const [step, better, worse] of cases) {
    t.equal(decidingStep(better, worse), step, `${step} decides`);
    t.equal(compareRoutes(better, worse), -1, `${step}: first is better`);
    t.equal(compareRoutes(worse, better), 1, `${step}: symmetric`);
    t.equal(selectBest([worse, better]), better);
  }
  // MED is skipped between different neighbour ASes: router id decides instead
  const x = route(P, { med: 50, asPath: [{ type: 2, asns: [100] }] }, src('10.0.0.2', { routerId: '1.1.1.1' }));
  const y = route(P, { med: 1, asPath: [{ type: 2, asns: [200] }] }, src('10.0.0.3', { routerId: '2.2.2.2' }));
  t.equal(decidingStep(x, y), 'router-id');
});

t.test('Loc-RIB follows announcements, withdrawals and session loss; import policy filters', async (t) => {
  const rejectBig: Policy = { rules: [{ match: { prefixes: [{ prefix: '10.0.0.0/8', ge: 8, le: 24 }] }, action: 'accept' }], default: 'reject' };
  const rib = new Rib((r) => evaluatePolicy(rejectBig, r));
  const a = src('10.0.0.2'), b = src('10.0.0.3');
  let ch = rib.update(a.id, [route(P, { localPref: 100 }, a), route('192.168.0.0/24', {}, a)], []);
  t.same(ch.map((c) => c.prefix), [P], '192.168.0.0/24 rejected by import policy');
  ch = rib.update(b.id, [route(P, { localPref: 300 }, b)], []);
  t.equal(ch[0].best?.source.id, b.id, 'higher local-pref wins');
  t.equal(ch[0].previous?.source.id, a.id);
  ch = rib.removeSource(b.id);
  t.equal(rib.best(P)?.source.id, a.id, 'falls back when the better source goes');
  ch = rib.update(a.id, [], [P]);
  t.same(ch, [{ prefix: P, key: prefixKey(P), best: undefined, previous: ch[0].previous }]);
  t.equal(rib.bestRoutes().length, 0);
  t.equal(rib.received(a.id).length, 1, 'Adj-RIB-In still holds the rejected route');
});

t.test('graceful restart: stale routes stay until End-of-RIB, then only unrefreshed ones go', async (t) => {
  const rib = new Rib((r) => r);
  const a = src('10.0.0.2');
  rib.update(a.id, [route('10.1.0.0/16', {}, a), route('10.2.0.0/16', {}, a), route('2001:db8::/32', {}, a)], []);
  rib.markStale(a.id);
  t.equal(rib.bestRoutes().filter((r) => r.stale).length, 3, 'all stale, still best');
  rib.update(a.id, [route('10.1.0.0/16', {}, a)], []); // refreshed after the restart
  const ch = rib.flushStale(a.id, 1);
  t.same(ch.map((c) => c.prefix), ['10.2.0.0/16'], 'End-of-RIB for IPv4 drops only the stale IPv4 route');
  t.ok(rib.best('2001:db8::/32')?.stale, 'IPv6 route waits for its own End-of-RIB');
  t.same(rib.flushStale(a.id).map((c) => c.prefix), ['2001:db8::/32'], 'restart timer end drops the rest');
});

t.test('policy: prefix lists with ge/le, AS path regex, communities, set actions', async (t) => {
  t.ok(prefixMatches('10.1.0.0/16', { prefix: '10.0.0.0/8', le: 24 }));
  t.notOk(prefixMatches('10.1.0.0/16', { prefix: '10.0.0.0/8' }), 'exact by default');
  t.notOk(prefixMatches('11.0.0.0/16', { prefix: '10.0.0.0/8', le: 24 }));
  t.notOk(prefixMatches('10.1.2.0/25', { prefix: '10.0.0.0/8', le: 24 }));
  t.ok(prefixMatches('10.128.0.0/9', { prefix: '10.128.0.0/9' }));
  t.notOk(prefixMatches('10.0.0.0/9', { prefix: '10.128.0.0/9' }), 'bit 9 differs');
  const pol: Policy = {
    rules: [
      { match: { communities: ['65000:666'] }, action: 'reject' },
      { match: { asPath: '^65002\\b' }, set: { localPref: 250, addCommunities: ['65000:1'] } },
      { match: { prefixes: [{ prefix: '10.0.0.0/8', le: 32 }] }, set: { med: 7 }, action: 'accept' },
    ],
    default: 'reject',
  };
  const a = src('10.0.0.2');
  const r = evaluatePolicy(pol, route(P, {}, a));
  t.equal(r?.attrs.localPref, 250);
  t.equal(r?.attrs.med, 7);
  t.same(r?.attrs.communities, [65000 * 65536 + 1]);
  t.equal(evaluatePolicy(pol, route(P, { communities: [((65000 << 16) | 666) >>> 0] }, a)), undefined, 'blackhole community');
  t.equal(evaluatePolicy(pol, route('192.168.0.0/16', {}, a)), undefined, 'default reject');
  t.equal(evaluatePolicy(pol, route(P, { asPath: [{ type: 2, asns: [65003, 65002] }] }, a))?.attrs.localPref, undefined, 'regex anchored');
});

function target(over: Partial<ExportTarget> = {}): ExportTarget {
  return { id: '10.0.0.9', internal: false, rrClient: false, routerId: '9.9.9.9', localAs: 65001, localRouterId: '10.0.0.1', nextHop4: '10.0.0.1', nextHop6: '2001:db8::1', ...over };
}

t.test('export: RFC 8212 default deny on eBGP, own blocks only by default, §5.1 rewriting', async (t) => {
  const local = src('local', { local: true, asn: 65001, address: '', internal: false });
  const own = route('10.244.1.0/24', { asPath: [], nextHop: undefined }, local);
  const learnt = route(P, { med: 40 }, src('10.0.0.2'));
  t.equal(exportRoute(own, target()), undefined, 'eBGP without policy: nothing');
  const accept: Policy = { rules: [], default: 'accept' };
  const a = exportRoute(learnt, target({ policy: accept }));
  t.same(a?.asPath, [{ type: 2, asns: [65001, 65002] }], 'our AS prepended');
  t.equal(a?.nextHop, '10.0.0.1', 'next hop self');
  t.equal(a?.med, undefined, 'MED from another AS not passed on');
  t.equal(a?.localPref, undefined);
  t.equal(exportRoute(learnt, target({ policy: accept, id: '10.0.0.2' })), undefined, 'not back to its source');
  const ibgp = target({ internal: true, asn: 65001 } as Partial<ExportTarget>);
  const o = exportRoute(own, ibgp);
  t.same([o?.nextHop, o?.localPref, o?.asPath], ['10.0.0.1', 100, []], 'own block to iBGP');
  t.equal(exportRoute(learnt, ibgp), undefined, 'default export: only own blocks');
});

t.test('route reflection (RFC 4456): client routes to all, non-client routes to clients, loop attributes', async (t) => {
  const client = src('10.0.0.2', { internal: true, rrClient: true, asn: 65001, routerId: '2.2.2.2' });
  const nonClient = src('10.0.0.3', { internal: true, rrClient: false, asn: 65001, routerId: '3.3.3.3' });
  const fromClient = route(P, { localPref: 100, asPath: [] }, client);
  const fromNon = route(P, { localPref: 100, asPath: [] }, nonClient);
  const rr = { internal: true, clusterId: '10.0.0.1' };
  const toClient = target({ ...rr, id: '10.0.0.4', rrClient: true, routerId: '4.4.4.4' });
  const toNon = target({ ...rr, id: '10.0.0.5', rrClient: false, routerId: '5.5.5.5' });
  const x = exportRoute(fromClient, toNon);
  t.equal(x?.originatorId, '2.2.2.2', 'ORIGINATOR_ID set to the client');
  t.same(x?.clusterList, ['10.0.0.1'], 'cluster id prepended');
  t.equal(x?.nextHop, '10.0.0.2', 'next hop unchanged when reflecting');
  t.ok(exportRoute(fromClient, toClient), 'client to client');
  t.ok(exportRoute(fromNon, toClient), 'non-client to client');
  t.equal(exportRoute(fromNon, toNon), undefined, 'non-client to non-client: no');
  t.equal(exportRoute(fromNon, target({ internal: true, id: '10.0.0.5' })), undefined, 'not a reflector: iBGP split horizon');
  t.equal(exportRoute(route(P, { originatorId: '4.4.4.4' }, client), toClient), undefined, 'never back to the originator');
});

t.test('Adj-RIB-Out sends only changes; buildUpdates packs prefixes into <= 4096-octet UPDATEs', async (t) => {
  const out = new AdjRibOut();
  const attrs: PathAttributes = { origin: 0, asPath: [], nextHop: '10.0.0.1', localPref: 100 };
  t.equal(out.set(P, 1, attrs), 'announce');
  t.equal(out.set(P, 1, { ...attrs }), 'none', 'same attributes: nothing to send');
  t.equal(out.set(P, 1, { ...attrs, med: 1 }), 'announce');
  t.equal(out.set(P, 1, undefined), 'withdraw');
  t.equal(out.set(P, 1, undefined), 'none');
  const many = new Map<string, PathAttributes>();
  for (let i = 0; i < 2000; i++) many.set(`10.${i >> 8}.${i & 255}.0/24`, attrs);
  const ups = buildUpdates(1, many, ['192.168.0.0/16'], { as4: true });
  const wires = ups.map((u) => encodeMessage(u));
  t.ok(wires.every((w) => w.length <= 4096), `${ups.length} messages, all within 4096 octets`);
  const back = ups.map((u, i) => decodeMessage(wires[i])).flatMap((m) => (m.type === 'update' ? m.nlri : []));
  t.equal(back.length, 2000, 'every prefix announced once');
  const v6 = buildUpdates(2, new Map([['2001:db8:1::/48', { ...attrs, nextHop: '2001:db8::1' }]]), ['2001:db8:2::/48'], { as4: true }, { global: '2001:db8::1', linkLocal: 'fe80::1' });
  t.equal(v6[0].attrs.mpUnreach?.withdrawn[0], '2001:db8:2::/48');
  t.same([v6[1].attrs.mpReach?.nextHop, v6[1].attrs.mpReach?.linkLocalNextHop], ['2001:db8::1', 'fe80::1']);
});

t.test('candidates from one, three, then fewer sources: best follows, a source\'s routes replace its own only', async (t) => {
  const rib = new Rib((r) => r);
  const a = src('10.0.0.2'), b = src('10.0.0.3'), c = src('10.0.0.4');
  const lp = (n: number, s: RouteSource): Route => route(P, { localPref: n }, s);
  t.same(rib.update(a.id, [lp(100, a)], []).map((x) => x.best?.source.id), ['10.0.0.2'], 'one source');
  rib.update(b.id, [lp(200, b)], []);
  rib.update(c.id, [lp(150, c)], []);
  t.equal(rib.best(P)?.source.id, '10.0.0.3', 'highest LOCAL_PREF of three');
  t.equal(rib.allRoutes().length, 3);
  rib.update(b.id, [lp(50, b)], []); // b replaces its own route, not another source's
  t.equal(rib.allRoutes().length, 3, 'still one route per source');
  t.equal(rib.best(P)?.source.id, '10.0.0.4', 'c now best');
  t.same(rib.removeSource(c.id).map((x) => [x.previous?.source.id, x.best?.source.id]), [['10.0.0.4', '10.0.0.2']], 'c gone: a takes over');
  rib.update(a.id, [], [P]);
  t.equal(rib.best(P)?.source.id, '10.0.0.3', 'down to one source: b');
  t.same(rib.allRoutes().map((r) => r.source.id), ['10.0.0.3']);
  rib.markStale(b.id);
  t.equal(rib.best(P)?.stale, true, 'stale marking reaches the single candidate');
  t.same(rib.flushStale(b.id).map((x) => x.best), [undefined], 'and flushing it empties the prefix');
  t.same(rib.allRoutes(), []);
});

t.test('received and accepted counts follow every update and session loss, equal to walking the table', async (t) => {
  const a = src('10.0.0.2'), b = src('10.0.0.3');
  // import rejects 10.9/16: received, not accepted
  const rib = new Rib((r) => (r.prefix === '10.9.0.0/16' ? undefined : r));
  const check = (what: string): void => {
    for (const s of [a, b]) {
      t.equal(rib.receivedCount(s.id), rib.received(s.id).length, `${what}: received of ${s.id}`);
      t.equal(rib.acceptedCount(s.id), rib.allRoutes().filter((r) => r.source.id === s.id).length, `${what}: accepted of ${s.id}`);
      t.equal(rib.receivedCount(s.id, 2), rib.received(s.id).filter((r) => r.afi === 2).length, `${what}: IPv6 of ${s.id}`);
    }
    t.same([...rib.bestIter()], rib.bestRoutes(), `${what}: the iterator walks Loc-RIB`);
  };
  rib.update(a.id, ['10.1.0.0/16', '10.2.0.0/16', '10.9.0.0/16', '2001:db8::/32'].map((p) => route(p, {}, a)), []);
  rib.update(b.id, ['10.1.0.0/16', '10.3.0.0/16'].map((p) => route(p, {}, b)), []);
  check('announced');
  rib.update(a.id, [route('10.1.0.0/16', { med: 3 }, a)], ['10.2.0.0/16', '10.2.0.0/16', '10.77.0.0/16', '2001:db8::/32']);
  check('replaced, withdrawn twice, withdrawn unknown');
  rib.removeSource(b.id);
  check('source removed');
  t.equal(rib.receivedCount(a.id), 2);
  t.equal(rib.acceptedCount(a.id), 1);
});
