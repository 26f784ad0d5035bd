// ECMP into the real kernel, inside a namespace the test creates: the RIB's multipath set becomes one
// route with RTA_MULTIPATH next hops (IPv4 and IPv6), a change of the set replaces that route whole, the
// dump reads it back as written (reconcile finds nothing to fix), and the route goes with the prefix.
import t, { Test } from 'tap';
import { createNetns, TestNetns } from '../helpers/netns';
import { mustGetLink, openRtnl, withNetns } from '../../lib/cni/net';
import { FibSync, NetlinkFib } from '../../lib/cni/bgp/fib';
import { Rib } from '../../lib/cni/bgp/rib';
import type { Route, RouteSource } from '../../lib/cni/bgp/route';

function src(address: string, asn: number): RouteSource {
  return { id: address, address, asn, routerId: address.includes(':') ? '1.1.1.' + asn % 250 : address, internal: false, rrClient: false, local: false };
}
function route(prefix: string, s: RouteSource): Route {
  return { prefix, afi: prefix.includes(':') ? 2 : 1, attrs: { origin: 0, asPath: [{ type: 2, asns: [s.asn] }], nextHop: s.address }, source: s };
}

/** a namespace with 10.9.0.1/24 and fd09::1/64 on a veth: gateways in both are reachable */
function node(t: Test): TestNetns {
  const a = createNetns('fib-ecmp');
  t.teardown(() => a.remove());
  a.exec('ip', ['link', 'add', 'v0', 'type', 'veth', 'peer', 'name', 'v1']);
  a.exec('sysctl', ['-qw', 'net.ipv6.conf.v0.accept_dad=0']);
  a.exec('ip', ['addr', 'add', '10.9.0.1/24', 'dev', 'v0']);
  a.exec('ip', ['addr', 'add', 'fd09::1/64', 'dev', 'v0', 'nodad']);
  a.exec('ip', ['link', 'set', 'v0', 'up']);
  a.exec('ip', ['link', 'set', 'v1', 'up']);
  return a;
}

interface IpRoute { dst: string; gateway?: string; protocol?: string; nexthops?: Array<{ gateway: string; dev: string; weight: number }> }
const show = (a: TestNetns, family: '-4' | '-6', prefix: string): IpRoute[] => JSON.parse(a.exec('ip', ['-j', family, 'route', 'show', prefix])) as IpRoute[];
const gateways = (rs: IpRoute[]): string[] => rs.flatMap((r) => (r.nexthops ? r.nexthops.map((h) => h.gateway) : r.gateway ? [r.gateway] : [])).sort();

for (const [family, prefix, peers] of [
  ['-4', '10.99.1.0/24', ['10.9.0.2', '10.9.0.3', '10.9.0.4']],
  ['-6', 'fd99:1::/64', ['fd09::2', 'fd09::3', 'fd09::4']],
] as const) {
  t.test(`${family === '-4' ? 'IPv4' : 'IPv6'}: one multipath route, replaced whole as the set changes, removed with the prefix`, async (t) => {
    const a = node(t);
    const fib = new FibSync(withNetns(a.path, () => new NetlinkFib()), 5);
    t.teardown(() => fib.close());
    const rib = new Rib((r) => r, 4);
    const sources = peers.map((p, i) => src(p, 65001 + i));
    for (const s of sources) fib.update(rib.update(s.id, [route(prefix, s)], []));
    await fib.flush();
    t.same(fib.errors, [], 'no kernel errors');
    let rs = show(a, family, prefix);
    t.equal(rs.length, 1, `one kernel route: ${JSON.stringify(rs)}`);
    t.equal(rs[0].protocol, 'bgp', 'protocol 186');
    t.same(gateways(rs), [...peers].sort(), 'three next hops');
    t.ok(rs[0].nexthops?.every((h) => h.dev === 'v0' && h.weight === 1), 'each on v0, weight 1');
    t.equal(await fib.reconcile(rib.bestIter()), 0, 'the dump reads back what was written: reconcile fixes nothing');

    // one path leaves the set: the route is replaced (still one), now with two next hops
    fib.update(rib.update(sources[1].id, [], [prefix]));
    await fib.flush();
    rs = show(a, family, prefix);
    t.equal(rs.length, 1, 'still one route');
    t.same(gateways(rs), [peers[0], peers[2]].sort(), 'the withdrawn next hop is gone');

    // down to one path: a plain route via that gateway
    fib.update(rib.update(sources[2].id, [], [prefix]));
    await fib.flush();
    rs = show(a, family, prefix);
    t.equal(rs.length, 1);
    t.equal(rs[0].nexthops, undefined, 'no longer multipath');
    t.equal(rs[0].gateway, peers[0], `via ${peers[0]}`);

    // back to two, then the prefix goes
    fib.update(rib.update(sources[1].id, [route(prefix, sources[1])], []));
    await fib.flush();
    t.same(gateways(show(a, family, prefix)), [peers[0], peers[1]].sort(), 'multipath again');
    fib.update(rib.update(sources[0].id, [], [prefix]));
    fib.update(rib.update(sources[1].id, [], [prefix]));
    await fib.flush();
    t.same(show(a, family, prefix), [], 'the prefix gone: no route left');
    t.same(fib.errors, [], 'no kernel errors throughout');
  });
}

t.test('removeAll takes multipath routes too, and another protocol\'s route stays', async (t) => {
  const a = node(t);
  a.exec('ip', ['route', 'add', '10.98.0.0/24', 'proto', 'static', 'nexthop', 'via', '10.9.0.2', 'nexthop', 'via', '10.9.0.3']);
  const fib = new FibSync(withNetns(a.path, () => new NetlinkFib()), 5);
  t.teardown(() => fib.close());
  const rib = new Rib((r) => r, 2);
  for (const s of [src('10.9.0.2', 65001), src('10.9.0.3', 65002)]) fib.update(rib.update(s.id, [route('10.99.2.0/24', s)], []));
  await fib.flush();
  t.same(gateways(show(a, '-4', '10.99.2.0/24')), ['10.9.0.2', '10.9.0.3']);
  await fib.removeAll();
  t.same(show(a, '-4', '10.99.2.0/24'), [], 'ours removed');
  t.same(gateways(show(a, '-4', '10.98.0.0/24')), ['10.9.0.2', '10.9.0.3'], 'the static multipath route untouched');
});

t.test('with an encapsulation: a plain set stays multipath; a set with a tunnelled next hop is one route through its first hop, and stays right on reconcile', async (t) => {
  const a = node(t);
  // stands in for the tunnel device: EncapFib only needs its ifindex (this kernel has no dummy or ipip)
  a.exec('ip', ['link', 'add', 'tun0', 'type', 'veth', 'peer', 'name', 'tun1']);
  a.exec('ip', ['link', 'set', 'tun0', 'up']);
  a.exec('ip', ['link', 'set', 'tun1', 'up']);
  const nl = openRtnl(a.path);
  t.teardown(() => nl.close());
  const tun = (await mustGetLink(nl, 'tun0')).index;
  const tunnelled = new Set(['10.9.0.3', '10.9.0.4']);
  const { EncapFib } = await import('../../lib/cni/agent/backends/bgp/encap-fib');
  const fib = new FibSync(new EncapFib(withNetns(a.path, () => new NetlinkFib()), nl, (_p, gw) => (tunnelled.has(gw) ? tun : undefined)), 5);
  t.teardown(() => fib.close());
  const rib = new Rib((r) => r, 4);
  const feed = (prefix: string, hops: string[]): void => { hops.forEach((h, i) => fib.update(rib.update(h, [route(prefix, src(h, 65001 + i))], []))); };
  feed('10.99.5.0/24', ['10.9.0.2', '10.9.0.5']); // neither tunnelled
  feed('10.99.6.0/24', ['10.9.0.3', '10.9.0.2']); // 10.9.0.3 tunnelled
  await fib.flush();
  t.same(fib.errors, []);
  t.same(gateways(show(a, '-4', '10.99.5.0/24')), ['10.9.0.2', '10.9.0.5'], 'plain set: one multipath route');
  const one = show(a, '-4', '10.99.6.0/24') as Array<IpRoute & { dev?: string; flags?: string[] }>;
  t.equal(one.length, 1);
  t.equal(one[0].nexthops, undefined, 'with a tunnelled next hop: a single route');
  t.equal(one[0].gateway, '10.9.0.2', 'through the first next hop of the set (in its order), here a plain one');
  feed('10.99.7.0/24', ['10.9.0.4', '10.9.0.5']);
  await fib.flush();
  const tr = show(a, '-4', '10.99.7.0/24') as Array<IpRoute & { dev?: string; flags?: string[] }>;
  t.match(tr[0], { gateway: '10.9.0.4', dev: 'tun0' }, 'a tunnelled first hop: via it on the tunnel');
  t.ok(tr[0].flags?.includes('onlink'), 'onlink');
  t.equal(await fib.reconcile(rib.bestIter()), 0, 'the dump of the collapsed routes reads as the sets asked for: nothing to fix');
});
