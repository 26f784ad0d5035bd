import t, { type Test } from 'tap';
import * as net from 'node:net';
import { BgpSpeaker, type BestChange, type SpeakerOptions } from '../../lib/cni/bgp/speaker';
import type { Policy } from '../../lib/cni/bgp/policy';
import { freeLoopbackPort, until as waitUntil } from '../helpers/wait';

const ACCEPT: Policy = { rules: [], default: 'accept' };

const until = (what: string, cond: () => boolean, ms = 10_000): Promise<void> => waitUntil(what, cond, ms, 20);

/** two speakers on 127.0.0.1 that peer with each other (each knows one peer, so the address is enough) */
async function pair(t: Test, a: Partial<SpeakerOptions>, b: Partial<SpeakerOptions>, policy?: Policy): Promise<[BgpSpeaker, BgpSpeaker, BestChange[][]]> {
  const [pa, pb] = [await freeLoopbackPort(), await freeLoopbackPort()];
  const changesA: BestChange[] = [];
  const asnA = a.asn ?? 65001, asnB = b.asn ?? 65002;
  const A = new BgpSpeaker({
    asn: asnA, routerId: '10.0.0.1', listen: { address: '127.0.0.1', port: pa }, originate: [], onBestChange: (c) => changesA.push(...c),
    peers: [{ address: '127.0.0.1', port: pb, asn: asnB, holdTime: 9, importPolicy: policy, exportPolicy: policy }], ...a,
  });
  const B = new BgpSpeaker({
    asn: asnB, routerId: '10.0.0.2', listen: { address: '127.0.0.1', port: pb }, originate: [],
    peers: [{ address: '127.0.0.1', port: pa, asn: asnA, holdTime: 9, importPolicy: policy, exportPolicy: policy, nextHop6: '2001:db8::2' }], ...b,
  });
  t.teardown(async () => { await A.stop(); await B.stop(); });
  await A.start();
  await B.start();
  await until('Established', () => A.peers()[0].state === 'Established' && B.peers()[0].state === 'Established');
  return [A, B, [changesA]];
}

t.test('two eBGP speakers with explicit policies exchange IPv4 and IPv6 routes, withdraw them, and drop them on stop', async (t) => {
  const [A, B, [changesA]] = await pair(t, { originate: ['10.244.1.0/24'] }, { originate: ['10.244.2.0/24', '2001:db8:2::/48'] }, ACCEPT);
  await until('routes at A', () => A.routes().length === 3);
  const r = A.routes().find((x) => x.prefix === '10.244.2.0/24');
  t.equal(r?.from, '127.0.0.1');
  t.equal(r?.asPath, '65002');
  t.equal(r?.nextHop, '127.0.0.1', 'next hop self from the eBGP peer');
  t.equal(A.routes().find((x) => x.prefix === '2001:db8:2::/48')?.nextHop, '2001:db8::2', 'IPv6 next hop over an IPv4 session');
  await until('route at B', () => B.routes().some((x) => x.prefix === '10.244.1.0/24'));
  const peer = A.peers()[0];
  t.equal(peer.holdTime, 9);
  t.equal(peer.keepaliveTime, 3);
  t.same(peer.families.sort(), ['ipv4', 'ipv6']);
  t.ok(changesA.some((c) => c.prefix === '10.244.2.0/24' && c.best), 'onBestChange saw the new route');
  B.withdraw('10.244.2.0/24');
  await until('withdraw at A', () => !A.routes().some((x) => x.prefix === '10.244.2.0/24'));
  B.announce('10.244.3.0/24');
  await until('announce at A', () => A.routes().some((x) => x.prefix === '10.244.3.0/24'));
  await B.stop();
  await until('routes dropped at A (Cease, no graceful restart)', () => A.routes().every((x) => x.from === 'local'));
  t.equal(A.peers()[0].lastError, 'peer sent NOTIFICATION 6/2');
});

t.test('RFC 8212: eBGP without policies reaches Established but exchanges nothing', async (t) => {
  const [A, B] = await pair(t, { originate: ['10.244.1.0/24'] }, { originate: ['10.244.2.0/24'] });
  await new Promise((r) => setTimeout(r, 300));
  t.same(A.routes().map((r) => r.prefix), ['10.244.1.0/24']);
  t.same(B.routes().map((r) => r.prefix), ['10.244.2.0/24']);
  t.equal(A.peers()[0].advertised, 0);
});

t.test('iBGP default export sends own blocks with LOCAL_PREF and an empty AS path', async (t) => {
  const [A] = await pair(t, { asn: 65000, originate: [] }, { asn: 65000, originate: ['10.244.9.0/24'] });
  await until('route at A', () => A.routes().length === 1);
  const r = A.routes()[0];
  t.same([r.prefix, r.asPath, r.localPref], ['10.244.9.0/24', '', 100]);
});

t.test('graceful restart: a dropped TCP connection keeps the routes stale until End-of-RIB', async (t) => {
  const [A, B, [changesA]] = await pair(t, { originate: [] }, { originate: ['10.244.2.0/24', '10.244.4.0/24'], preserveForwarding: true }, ACCEPT);
  await until('routes at A', () => A.routes().length === 2);
  // cut B's connection without a NOTIFICATION, as a crashing process would
  const peers = (B as unknown as { peerMap: Map<string, { session: { socket?: net.Socket } }> }).peerMap;
  const [bp] = [...peers.values()];
  bp.session.socket?.destroy();
  await until('A sees the drop', () => A.peers()[0].state !== 'Established');
  B.withdraw('10.244.4.0/24'); // B "forgets" a route while the session is down
  t.equal(A.routes().filter((r) => r.stale).length, 2, 'both routes kept, marked stale');
  t.ok(A.peers()[0].gracefulRestart);
  const mark = changesA.length;
  await until('re-established and refreshed', () => A.peers()[0].state === 'Established' && !A.peers()[0].gracefulRestart, 15_000);
  t.same(A.routes().map((r) => [r.prefix, r.stale]), [['10.244.2.0/24', false]], 'End-of-RIB removed only the route B no longer has');
  const after = changesA.slice(mark);
  t.notOk(after.some((c) => c.prefix === '10.244.2.0/24' && !c.best), 'the refreshed route was never withdrawn (forwarding preserved)');
  t.ok(after.some((c) => c.prefix === '10.244.4.0/24' && !c.best), 'the forgotten one was');
});

t.test('backpressure: while the consumer holds the speaker, no UPDATE is taken; on release every one is', async (t) => {
  let held: Promise<void> | undefined;
  let release!: () => void;
  let asked = 0;
  const backpressure = (): Promise<void> | undefined => { asked++; return held; };
  const [A, B] = await pair(t, { backpressure }, { originate: [] }, ACCEPT);
  held = new Promise<void>((res) => { release = () => { held = undefined; res(); }; });
  const before = asked;
  B.announce('10.244.7.0/24');
  B.announce('10.244.8.0/24');
  await until('the held speaker was asked before handling a message', () => asked > before);
  await new Promise((r) => setTimeout(r, 300));
  t.notOk(A.routes().some((x) => x.prefix === '10.244.7.0/24' || x.prefix === '10.244.8.0/24'), 'nothing taken while held');
  release();
  await until('both routes after release', () => ['10.244.7.0/24', '10.244.8.0/24'].every((p) => A.routes().some((x) => x.prefix === p)));
  t.equal(A.peers()[0].state, 'Established', 'the session stayed up');
});
