import t from 'tap';
import { Rib, type BestChange, type PathAnnouncement } from '../../lib/cni/bgp/rib';
import { selectBest } from '../../lib/cni/bgp/decision';
import { keyPrefix, prefixKey } from '../../lib/cni/bgp/prefix-key';
import type { PathAttributes } from '../../lib/cni/bgp/codec';
import type { Route, RouteSource } from '../../lib/cni/bgp/route';

t.test('prefix keys: canonical IPv4 text becomes a number, unique per prefix, and turns back into the same text', async (t) => {
  const seen = new Map<number, string>();
  let seed = 7;
  const rnd = (): number => (seed = (seed * 1103515245 + 12345) >>> 0);
  for (let len = 0; len <= 32; len++) {
    for (let i = 0; i < 50; i++) {
      const mask = len === 0 ? 0 : (~0 << (32 - len)) >>> 0;
      const a = (rnd() & mask) >>> 0;
      const text = `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}/${len}`;
      const k = prefixKey(text);
      if (typeof k !== 'number') { t.fail(`${text} kept as text`); continue; }
      if (keyPrefix(k) !== text) t.fail(`${text} came back as ${keyPrefix(k)}`);
      if (seen.has(k) && seen.get(k) !== text) t.fail(`${text} and ${seen.get(k)} share key ${k}`);
      seen.set(k, text);
      if (len <= 29 && k >= 2 ** 30) t.fail(`${text}: key ${k} is not a small integer`);
    }
  }
  // lengths below 6 have fewer than 50 prefixes: 33 lengths give some 1,350 distinct ones
  t.ok(seen.size > 1300, `${seen.size} distinct prefixes checked`);
  t.not(prefixKey('10.0.0.0/8'), prefixKey('10.0.0.0/16'), 'same address, other length: other key');
  t.equal(keyPrefix(prefixKey('255.255.255.255/32')), '255.255.255.255/32');
  t.equal(keyPrefix(prefixKey('0.0.0.0/0')), '0.0.0.0/0');
  // anything not canonical stays the text it was (the RIB then behaves as with string keys)
  for (const s of ['10.1.2.3/16', '010.0.0.0/8', '10.0.0.0', '10.0.0.0/33', '10.0.0.0/08', '10.0.0/8', '1.2.3.4.5/32', '256.0.0.0/8', '2001:db8::/32', '', '1.0.0.0/0']) {
    t.equal(prefixKey(s), s, `${JSON.stringify(s)} keyed by its text`);
  }
});

// A reference RIB written the plain way: per prefix, per source, the received and the accepted route.
class ModelRib {
  readonly received = new Map<string, Map<string, Route>>();
  readonly accepted = new Map<string, Map<string, Route>>();
  constructor(private readonly importRoute: (r: Route) => Route | undefined) {}
  set(prefix: string, sourceId: string, r: Route | undefined): void {
    for (const [m, v] of [[this.received, r], [this.accepted, r && this.importRoute(r)]] as const) {
      let per = m.get(prefix);
      if (!per) m.set(prefix, (per = new Map()));
      if (v) per.set(sourceId, v); else per.delete(sourceId);
    }
  }
  best(prefix: string): Route | undefined { return selectBest(this.accepted.get(prefix)?.values() ?? []); }
}

t.test('the compact RIB agrees with a plain reference RIB over random announcements, withdrawals, session loss and policy', async (t) => {
  let seed = 42;
  const rnd = (n: number): number => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) % n;
  const sources: RouteSource[] = ['10.0.0.2', '10.0.0.3', '10.0.0.4'].map((a) => ({ id: a, address: a, asn: 65002, routerId: a, internal: false, rrClient: false, local: false }));
  const prefixes = ['10.1.0.0/16', '10.2.0.0/24', '10.2.1.0/24', '192.168.0.0/16', '10.1.2.3/16', '2001:db8::/32', '2001:db8:1::/48'];
  // rejects 192.168/16, raises LOCAL_PREF of 10.2/24 (a changed copy), keeps the rest as received
  const importRoute = (r: Route): Route | undefined =>
    r.prefix === '192.168.0.0/16' ? undefined : r.prefix === '10.2.0.0/24' ? { ...r, attrs: { ...r.attrs, localPref: 300 } } : r;
  const rib = new Rib(importRoute);
  const model = new ModelRib(importRoute);
  const sameRoute = (a: Route | undefined, b: Route | undefined): boolean =>
    a === b || (!!a && !!b && a.prefix === b.prefix && a.source.id === b.source.id && JSON.stringify(a.attrs) === JSON.stringify(b.attrs) && !!a.stale === !!b.stale);
  let failures = 0;
  for (let step = 0; step < 3000 && failures < 5; step++) {
    const src = sources[rnd(sources.length)];
    const before = new Map(prefixes.map((p) => [p, model.best(p)]));
    let changes: BestChange[];
    const op = rnd(10);
    if (op < 8) {
      // one UPDATE: a few announcements sharing one attribute object, a few withdrawals, maybe of the same prefixes
      const attrs: PathAttributes = { origin: 0, asPath: [{ type: 2, asns: Array(1 + rnd(3)).fill(65002) }], nextHop: src.address, med: rnd(3) };
      const ann: Route[] = [];
      const wd: string[] = [];
      for (let i = rnd(4); i > 0; i--) wd.push(prefixes[rnd(prefixes.length)]);
      for (let i = rnd(4); i > 0; i--) { const p = prefixes[rnd(prefixes.length)]; ann.push({ prefix: p, afi: p.includes(':') ? 2 : 1, attrs, source: src }); }
      if (op < 4) changes = rib.update(src.id, ann, wd);
      else {
        // as the speaker passes an UPDATE: prefixes grouped by path; a second group with other attributes
        const other: PathAttributes = { ...attrs, med: 9 };
        const second = ann.slice(rnd(ann.length + 1));
        for (const r of second) r.attrs = other;
        const groups = (afi: 1 | 2, a: PathAttributes): PathAnnouncement => ({ path: { afi, attrs: a, source: src }, prefixes: ann.filter((r) => r.attrs === a && r.afi === afi).map((r) => r.prefix) });
        changes = rib.updatePaths(src.id, [groups(1, attrs), groups(2, attrs), groups(1, other), groups(2, other)].filter((g) => g.prefixes.length), wd);
        // the model sees them in the same order
        ann.sort((x, y) => Number(x.attrs === other) * 2 + x.afi - (Number(y.attrs === other) * 2 + y.afi));
      }
      for (const p of wd) model.set(p, src.id, undefined);
      for (const r of ann) model.set(r.prefix, src.id, r);
    } else {
      changes = rib.removeSource(src.id);
      for (const p of prefixes) model.set(p, src.id, undefined);
    }
    const expected = prefixes.filter((p) => before.get(p) !== model.best(p));
    const got = new Map(changes.map((c) => [c.prefix, c]));
    for (const p of prefixes) {
      const want = model.best(p);
      const ok = sameRoute(rib.best(p), want) && expected.includes(p) === got.has(p)
        && (!got.has(p) || (sameRoute(got.get(p)!.best, want) && sameRoute(got.get(p)!.previous, before.get(p))));
      if (!ok) { failures++; t.fail(`step ${step} ${p}: best ${JSON.stringify(rib.best(p)?.source.id)} want ${JSON.stringify(want?.source.id)}, change ${JSON.stringify(got.get(p))}`); }
    }
    if (changes.length !== got.size) { failures++; t.fail(`step ${step}: a prefix reported twice`); }
    for (const s of sources) {
      const received = [...model.received.values()].filter((m) => m.has(s.id)).length;
      const accepted = [...model.accepted.values()].filter((m) => m.has(s.id)).length;
      if (rib.receivedCount(s.id) !== received || rib.acceptedCount(s.id) !== accepted) { failures++; t.fail(`step ${step} counts of ${s.id}`); }
    }
  }
  t.equal(failures, 0, '3000 random operations, same Loc-RIB, changes and counts as the reference');
});

t.test('stale marking on a shared path: per family, and a fresh announcement with the same attributes is not stale', async (t) => {
  const rib = new Rib((r) => r);
  const a: RouteSource = { id: '10.0.0.2', address: '10.0.0.2', asn: 65002, routerId: '2.2.2.2', internal: false, rrClient: false, local: false };
  const attrs: PathAttributes = { origin: 0, asPath: [{ type: 2, asns: [65002] }], nextHop: '10.0.0.2' };
  const v4 = ['10.1.0.0/24', '10.2.0.0/24', '10.3.0.0/24'];
  rib.update(a.id, [...v4, '2001:db8::/32'].map((p) => ({ prefix: p, afi: p.includes(':') ? 2 : 1, attrs, source: a } as Route)), []);
  rib.markStale(a.id, 1);
  t.same(rib.bestRoutes().filter((r) => r.stale).map((r) => r.prefix), v4, 'IPv4 stale, IPv6 not');
  // the peer sends one prefix again with the very same attribute object (as the last path cache would reuse)
  t.same(rib.update(a.id, [{ prefix: '10.2.0.0/24', afi: 1, attrs, source: a }], []).map((c) => [c.prefix, c.previous?.stale, c.best?.stale]), [['10.2.0.0/24', true, undefined]], 'refreshed: no longer stale');
  t.same(rib.flushStale(a.id, 1).map((c) => c.prefix), ['10.1.0.0/24', '10.3.0.0/24'], 'End-of-RIB drops the two not refreshed');
  t.same(rib.bestRoutes().map((r) => r.prefix).sort(), ['10.2.0.0/24', '2001:db8::/32']);
});
