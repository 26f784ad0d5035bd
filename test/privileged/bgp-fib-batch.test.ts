// FIB sync's batched writes against the real kernel, inside a namespace the test creates: many route
// messages per sendmsg, each with its own ACK, so one bad route fails alone and is reported alone.
import t, { Test } from 'tap';
import { createNetns, TestNetns } from '../helpers/netns';
import { withNetns, openRtnl, listRoutes, routeBatch } from '../../lib/cni/net';
import { FibSync, NetlinkFib, RTPROT_BGP } from '../../lib/cni/bgp/fib';
import type { Route } from '../../lib/cni/bgp/route';

function ns(t: Test, purpose: string): TestNetns {
  const n = createNetns(purpose);
  t.teardown(() => n.remove());
  return n;
}

function r(prefix: string, nextHop: string): Route {
  return { prefix, afi: 1, attrs: { nextHop }, source: { id: '10.9.0.2', address: '10.9.0.2', asn: 1, routerId: '1.1.1.1', internal: false, rrClient: false, local: false } };
}

/** a namespace with 10.9.0.1/24 on a veth: 10.9.0.0/24 gateways are reachable, others are not */
function node(t: Test): TestNetns {
  const a = ns(t, 'fib');
  a.exec('ip', ['link', 'add', 'v0', 'type', 'veth', 'peer', 'name', 'v1']);
  a.exec('ip', ['addr', 'add', '10.9.0.1/24', 'dev', 'v0']);
  a.exec('ip', ['link', 'set', 'v0', 'up']);
  a.exec('ip', ['link', 'set', 'v1', 'up']);
  return a;
}

t.test('a batch with one unreachable gateway installs all the others and reports exactly that one', async (t) => {
  const a = node(t);
  a.exec('ip', ['route', 'add', '10.99.0.0/24', 'via', '10.9.0.3', 'proto', 'static']);
  const fib = new FibSync(withNetns(a.path, () => new NetlinkFib()), 10);
  t.teardown(() => fib.close());
  const n = 3000; // more than one sendmsg chunk and more than one ACK window's worth of chunks
  const routes: Route[] = [];
  for (let i = 0; i < n; i++) routes.push(r(`20.${i >> 8}.${i & 255}.0/24`, '10.9.0.2'));
  routes.splice(1234, 0, r('30.0.0.0/24', '10.77.0.1')); // no address covers 10.77.0.1: ENETUNREACH
  routes.push(r('10.99.0.0/24', '10.9.0.2')); // another protocol's prefix: left alone
  fib.update(routes.map((x) => ({ prefix: x.prefix, best: x })));
  await fib.flush();

  const nl = openRtnl(a.path);
  t.teardown(() => nl.close());
  const ours = (await listRoutes(nl, 4)).filter((x) => x.protocol === RTPROT_BGP);
  t.equal(ours.length, n, 'every good route is in the kernel');
  t.ok(ours.every((x) => x.gw === '10.9.0.2'), 'each with its gateway');
  t.notOk(ours.some((x) => x.dst === '30.0.0.0/24'), 'the bad one is not');
  t.same(fib.errors.map((e) => [e.prefix, e.op]).sort(), [['10.99.0.0/24', 'replace'], ['30.0.0.0/24', 'replace']], 'exactly the bad route and the foreign prefix are reported');
  t.match(fib.errors.find((e) => e.prefix === '30.0.0.0/24')?.message, /ENETUNREACH/, 'with the kernel\'s own reason for that route');
  t.match(a.exec('ip', ['route', 'show', '10.99.0.0/24']), /via 10\.9\.0\.3 .*proto static/, 'the static route is untouched');

  // withdraw everything in one batch: deletes are batched too and name protocol 186 only
  fib.update(routes.map((x) => ({ prefix: x.prefix })));
  await fib.flush();
  t.equal((await listRoutes(nl, 4)).filter((x) => x.protocol === RTPROT_BGP).length, 0, 'all protocol-186 routes removed');
  t.match(a.exec('ip', ['route', 'show', '10.99.0.0/24']), /proto static/, 'static route still there');
  t.equal(fib.errors.length, 2, 'the removals raised no new errors');
});

t.test('routeBatch maps each result to its op, including ops that cannot even be encoded', async (t) => {
  const a = node(t);
  const nl = openRtnl(a.path);
  t.teardown(() => nl.close());
  const res = await routeBatch(nl, [
    { op: 'replace', route: { dst: '10.50.0.0/16', gw: '10.9.0.2' } },
    { op: 'replace', route: { dst: '10.51.0.0/16', gw: 'fd00::1' } }, // wrong family: fails before sending
    { op: 'delete', route: { dst: '10.52.0.0/16' } }, // no such route: ESRCH for this op only
    { op: 'replace', route: { dst: '10.53.0.0/16', gw: '10.9.0.2' } },
  ], 2);
  t.equal(res.length, 4, 'one result per op');
  t.same([res[0], res[3]], [undefined, undefined], 'good ops succeed');
  t.match(res[1]?.message, /same IP family/, 'encoding error on its own op');
  t.match((res[2] as { code?: string } | undefined)?.code, /ESRCH|ENOENT/, 'kernel error on its own op');
  const dsts = (await listRoutes(nl, 4)).map((x) => x.dst);
  t.ok(dsts.includes('10.50.0.0/16') && dsts.includes('10.53.0.0/16'), 'both good routes installed');
});
