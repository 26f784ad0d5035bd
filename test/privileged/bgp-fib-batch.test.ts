// FIB sync's batched writes against the real kernel, inside a namespace the test creates: many route
// messages per sendmsg, only the last asking for an ACK (the kernel reports every failure anyway), so one
// bad route fails alone and is reported alone.
import t, { Test } from 'tap';
import { createNetns, TestNetns } from '../helpers/netns';
import { withNetns, openRtnl, listRoutes } from '../../lib/cni/net';
import { NLM_F, RTM } from '../../lib/cni/net/nl/constants';
import type { NlRequest } from '../../lib/cni/net/nl/socket';
import { NlWriter } from '../../lib/cni/net/nl/writer';
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

/** RTM_DELROUTE of a /24 that is not there: fails with ESRCH (a request the kernel answers with an error) */
function missingRoute(i: number): NlRequest {
  const b = Buffer.alloc(12 + 8);
  b[0] = 2; b[1] = 24; b[4] = 254; b[5] = RTPROT_BGP; b[6] = 255; b[7] = 1;
  b.writeUInt16LE(8, 12); b.writeUInt16LE(1 /* RTA_DST */, 14); b.writeUInt8(40, 16); b.writeUInt8(i >> 8, 17); b.writeUInt8(i & 255, 18);
  return { op: `delete missing ${i}`, type: RTM.DELROUTE, flags: 0, body: b };
}

t.test('NlWriter.writeBatch: errors map to their request wherever they fall, including the ACK-carrying last one', async (t) => {
  const a = node(t);
  const nl = openRtnl(a.path);
  t.teardown(() => nl.close());
  // its socket is made in the namespace the calling thread is in; the threadpool writes through it
  const writer = withNetns(a.path, () => new NlWriter());
  t.teardown(() => writer.close());
  const ok = (i: number): NlRequest => {
    const b = Buffer.alloc(12 + 8 + 8 + 8);
    b[0] = 2; b[1] = 24; b[4] = 254; b[5] = RTPROT_BGP; b[7] = 1;
    b.writeUInt16LE(8, 12); b.writeUInt16LE(15 /* RTA_TABLE */, 14); b.writeUInt32LE(254, 16);
    b.writeUInt16LE(8, 20); b.writeUInt16LE(1 /* RTA_DST */, 22); b.writeUInt8(50, 24); b.writeUInt8(i >> 8, 25); b.writeUInt8(i & 255, 26);
    b.writeUInt16LE(8, 28); b.writeUInt16LE(5 /* RTA_GATEWAY */, 30); Buffer.from([10, 9, 0, 2]).copy(b, 32);
    return { op: `add ${i}`, type: RTM.NEWROUTE, flags: NLM_F.CREATE | NLM_F.EXCL, body: b };
  };
  // chunks of 4: [ok ok bad ok] [ok ok ok bad] [bad bad bad bad] [ok]
  const reqs = [ok(0), ok(1), missingRoute(2), ok(3), ok(4), ok(5), ok(6), missingRoute(7), missingRoute(8), missingRoute(9), missingRoute(10), missingRoute(11), ok(12)];
  const res = await writer.writeBatch(reqs, 4);
  t.equal(res.length, reqs.length, 'one result per request');
  const failed = res.map((e, i) => (e ? i : -1)).filter((i) => i >= 0);
  t.same(failed, [2, 7, 8, 9, 10, 11], 'exactly the bad ones failed');
  t.ok(res.filter(Boolean).every((e) => (e as { code?: string }).code === 'ESRCH'), 'each with the kernel\'s errno');
  const dsts = (await listRoutes(nl, 4)).filter((x) => x.protocol === RTPROT_BGP).map((x) => x.dst).sort();
  t.same(dsts, ['50.0.0.0/24', '50.0.1.0/24', '50.0.12.0/24', '50.0.3.0/24', '50.0.4.0/24', '50.0.5.0/24', '50.0.6.0/24'], 'the good ones installed');
  // the same creates again: create-only (NLM_F_EXCL) refuses to touch what is there
  const again = await writer.writeBatch([ok(0), ok(1)]);
  t.same(again.map((e) => (e as { code?: string } | undefined)?.code), ['EEXIST', 'EEXIST']);
});

t.test('a prefix another protocol added after the dump is refused by the create-only write, not replaced', async (t) => {
  const a = node(t);
  const fib = new FibSync(withNetns(a.path, () => new NetlinkFib()), 10);
  t.teardown(() => fib.close());
  fib.update([{ prefix: '20.0.0.0/24', best: r('20.0.0.0/24', '10.9.0.2') }]);
  await fib.flush(); // dumped now: 20.1.0.0/24 is free
  a.exec('ip', ['route', 'add', '20.1.0.0/24', 'via', '10.9.0.3', 'proto', 'static']);
  fib.update([{ prefix: '20.1.0.0/24', best: r('20.1.0.0/24', '10.9.0.2') }]);
  await fib.flush();
  t.match(a.exec('ip', ['route', 'show', '20.1.0.0/24']), /via 10\.9\.0\.3 .*proto static/, 'the static route is untouched');
  t.same(fib.errors.map((e) => [e.prefix, e.message]), [['20.1.0.0/24', 'prefix owned by another routing protocol: left alone']]);
  fib.update([{ prefix: '20.1.0.0/24' }]);
  await fib.flush();
  t.match(a.exec('ip', ['route', 'show', '20.1.0.0/24']), /proto static/, 'and our withdrawal does not remove it either');
});

t.test('NlWriter: the kernel inserts on the threadpool while the event loop keeps turning', async (t) => {
  const a = node(t);
  const writer = withNetns(a.path, () => new NlWriter());
  t.teardown(() => writer.close());
  const n = 50_000;
  const reqs: NlRequest[] = [];
  for (let i = 0; i < n; i++) {
    const b = Buffer.alloc(12 + 8 + 8 + 8);
    b[0] = 2; b[1] = 32; b[4] = 254; b[5] = RTPROT_BGP; b[7] = 1;
    b.writeUInt16LE(8, 12); b.writeUInt16LE(15 /* RTA_TABLE */, 14); b.writeUInt32LE(254, 16);
    b.writeUInt16LE(8, 20); b.writeUInt16LE(1 /* RTA_DST */, 22); b.writeUInt32BE((60 << 24) + i, 24);
    b.writeUInt16LE(8, 28); b.writeUInt16LE(5 /* RTA_GATEWAY */, 30); Buffer.from([10, 9, 0, 2]).copy(b, 32);
    reqs.push({ op: `add ${i}`, type: RTM.NEWROUTE, flags: NLM_F.CREATE | NLM_F.EXCL, body: b });
  }
  // a writer on the main thread does the inserts inside its sendmsg calls: at most one turn of the loop per
  // chunk of 256 (about 200 here); on the threadpool the loop spins freely the whole time
  let turns = 0;
  let spinning = true;
  const spin = (): void => { if (spinning) { turns++; setImmediate(spin); } };
  setImmediate(spin);
  const res = await writer.writeBatch(reqs);
  spinning = false;
  t.equal(res.filter(Boolean).length, 0, 'every insert accepted');
  const chunks = Math.ceil(n / 256);
  t.ok(turns > 4 * chunks, `the loop turned while the kernel worked: ${turns} turns for ${chunks} chunks`);
  const nl = openRtnl(a.path);
  t.teardown(() => nl.close());
  t.equal((await listRoutes(nl, 4)).filter((x) => x.protocol === RTPROT_BGP).length, n, 'all of them in the kernel');
  writer.close();
  t.same(await writer.writeBatch(reqs.slice(0, 2)).then((r) => r.map((e) => e?.message)), ['netlink socket closed', 'netlink socket closed'], 'a closed writer refuses, naming why');
});

t.test('the resync compares a streamed dump with the Loc-RIB: hand edits put right, another protocol\'s route kept', async (t) => {
  const a = node(t);
  const backend = withNetns(a.path, () => new NetlinkFib());
  const fib = new FibSync(backend, 10);
  t.teardown(() => fib.close());
  const n = 3000; // many datagrams of the dump
  const best = new Map<string, Route>();
  for (let i = 0; i < n; i++) { const x = r(`20.${i >> 8}.${i & 255}.0/24`, '10.9.0.2'); best.set(x.prefix, x); }
  t.equal(await fib.reconcile(best.values(), undefined, (p) => best.get(p)), n, 'an empty kernel: every route written');
  let seen = 0;
  await backend.scan({ ours: () => { seen++; }, other: () => undefined });
  t.equal(seen, n, 'scan streams every route of ours');
  // behind FibSync's back: one deleted, one moved to another gateway, one stale added, one taken by a static route
  a.exec('ip', ['route', 'del', '20.0.7.0/24', 'proto', '186']);
  a.exec('ip', ['route', 'replace', '20.1.8.0/24', 'via', '10.9.0.3', 'proto', '186']);
  a.exec('ip', ['route', 'add', '20.200.0.0/24', 'via', '10.9.0.2', 'proto', '186']);
  a.exec('ip', ['route', 'del', '20.2.9.0/24', 'proto', '186']);
  a.exec('ip', ['route', 'add', '20.2.9.0/24', 'via', '10.9.0.4', 'proto', 'static']);
  t.equal(await fib.reconcile(best.values(), undefined, (p) => best.get(p)), 3, 'the deleted, the moved and the stale route');
  t.match(a.exec('ip', ['route', 'show', '20.0.7.0/24']), /via 10\.9\.0\.2 .*proto (186|bgp)/, 'the deleted route is back');
  t.match(a.exec('ip', ['route', 'show', '20.1.8.0/24']), /via 10\.9\.0\.2 .*proto (186|bgp)/, 'the moved one has its gateway again');
  t.equal(a.exec('ip', ['route', 'show', '20.200.0.0/24']).trim(), '', 'the stale one is gone');
  t.match(a.exec('ip', ['route', 'show', '20.2.9.0/24']), /via 10\.9\.0\.4 .*proto static/, 'the static route is left alone');
  t.equal(fib.installed, n - 1, 'FibSync\'s record is the kernel\'s: ours less the prefix the static route holds');
  t.equal(await fib.reconcile(best.values(), undefined, (p) => best.get(p)), 0, 'then nothing to do');
});
