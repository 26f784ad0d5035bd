// Graceful restart details against a raw peer: the R bit after our restart (RFC 4724 §4.1), the N bit and
// Hard Reset (RFC 8538), stopping for a restart without NOTIFICATION, and max-prefix (RFC 4486).
import t, { type Test } from 'tap';
import { BgpSpeaker, type BestChange, type PeerConfig } from '../../lib/cni/bgp/speaker';
import { AFI, encodeMessage, type Capabilities, type NotificationMessage } from '../../lib/cni/bgp/codec';
import { RawPeer } from '../helpers/bgp-raw-peer';
import { freeLoopbackPort, until } from '../helpers/wait';

const ACCEPT = { rules: [], default: 'accept' as const };
const ATTRS = { origin: 0 as const, asPath: [{ type: 2 as const, asns: [65002] }], nextHop: '127.0.0.1' };
/** the raw peer as a restart-capable speaker that preserves IPv4 forwarding; `n` sets the RFC 8538 N bit */
const gr = (n: boolean): Partial<Capabilities> => ({ gracefulRestart: { restarting: false, notification: n, restartTime: 60, families: [{ afi: AFI.IPV4, safi: 1, forwardingPreserved: true }] } });

async function speakerOn(t: Test, opts: { restarted?: boolean; n?: boolean; peer?: Partial<PeerConfig> } = {}): Promise<{ speaker: BgpSpeaker; port: number; changes: BestChange[]; connect: (caps: Partial<Capabilities>, hold?: number) => Promise<RawPeer> }> {
  const port = await freeLoopbackPort();
  const changes: BestChange[] = [];
  const speaker = new BgpSpeaker({
    asn: 65001, routerId: '10.0.0.1', listen: { address: '127.0.0.1', port }, originate: ['10.244.1.0/24'], restarted: opts.restarted,
    notificationRestart: opts.n ?? true, onBestChange: (c) => changes.push(...c),
    peers: [{ address: '127.0.0.1', asn: 65002, passive: true, importPolicy: ACCEPT, exportPolicy: ACCEPT, ...opts.peer }],
  });
  await speaker.start();
  const peers: RawPeer[] = [];
  t.teardown(async () => { for (const p of peers) p.sock.destroy(); await speaker.stop(); });
  return {
    speaker, port, changes,
    async connect(caps, hold) {
      await until('speaker ready for a connection', () => speaker.peerState('127.0.0.1') === 'Active');
      const p = new RawPeer(port);
      peers.push(p);
      await p.establish(caps, hold);
      return p;
    },
  };
}

const learnt = (s: BgpSpeaker): Array<[string, boolean]> => s.routes().filter((r) => r.from !== 'local').map((r) => [r.prefix, r.stale]);

/** the peer announces 10.60.0.0/16 and the speaker has it */
async function announceOne(speaker: BgpSpeaker, p: RawPeer): Promise<void> {
  p.send(encodeMessage({ type: 'update', withdrawn: [], attrs: ATTRS, nlri: ['10.60.0.0/16'] }));
  await until('route learnt', () => learnt(speaker).length === 1);
}

async function notificationFrom(p: RawPeer): Promise<NotificationMessage | undefined> {
  for (let m = await p.next(); m; m = await p.next()) if (m.type === 'notification') return m;
  return undefined;
}

t.test('RFC 4724 §4.1: after a restart the first OPEN carries the R bit, later ones do not; N bit when configured', async (t) => {
  const { connect } = await speakerOn(t, { restarted: true });
  const first = await connect(gr(true));
  t.equal(first.open?.capabilities.gracefulRestart?.restarting, true, 'R bit on the first session');
  t.equal(first.open?.capabilities.gracefulRestart?.notification, true, 'N bit');
  first.sock.destroy();
  const second = await connect(gr(true));
  t.equal(second.open?.capabilities.gracefulRestart?.restarting, false, 'no R bit on a later session');
});

t.test('RFC 8538: with N on both sides a Cease other than Hard Reset keeps the routes stale; Hard Reset clears them', async (t) => {
  const { speaker, connect } = await speakerOn(t);
  const p1 = await connect(gr(true));
  await announceOne(speaker, p1);
  p1.send(encodeMessage({ type: 'notification', code: 6, subcode: 4, data: Buffer.alloc(0) }));
  await until('session down', () => speaker.peerState('127.0.0.1') !== 'Established');
  t.same(learnt(speaker), [['10.60.0.0/16', true]], 'Cease 6/4: kept, stale');
  const p2 = await connect(gr(true));
  t.same(learnt(speaker), [['10.60.0.0/16', true]], 'still stale after the peer is back (forwarding preserved, no End-of-RIB yet)');
  p2.send(encodeMessage({ type: 'notification', code: 6, subcode: 9, data: Buffer.from([4]) }));
  await until('routes cleared', () => learnt(speaker).length === 0);
  t.pass('Hard Reset (6/9) cleared them');
});

t.test('RFC 8538: without the peer\'s N bit, or without ours, a NOTIFICATION ends the routes at once', async (t) => {
  for (const [ours, theirs] of [[true, false], [false, true]]) {
    const { speaker, connect } = await speakerOn(t, { n: ours });
    const p = await connect(gr(theirs));
    t.equal(p.open?.capabilities.gracefulRestart?.notification, ours, `our N bit: ${ours}`);
    await announceOne(speaker, p);
    p.send(encodeMessage({ type: 'notification', code: 6, subcode: 4, data: Buffer.alloc(0) }));
    await until('routes cleared', () => learnt(speaker).length === 0);
    t.pass(`cleared (ours ${ours}, theirs ${theirs})`);
  }
});

t.test('RFC 8538 §4: our hold timer expiring (NOTIFICATION 4/0) is a graceful restart when N is agreed', async (t) => {
  const { speaker, connect } = await speakerOn(t, { peer: { holdTime: 3 } });
  const p = await connect(gr(true), 3);
  await announceOne(speaker, p);
  // no KEEPALIVE from the peer from here on
  const n = await notificationFrom(p);
  t.same([n?.code, n?.subcode], [4, 0], 'hold timer expired');
  await until('session down', () => speaker.peerState('127.0.0.1') !== 'Established');
  t.same(learnt(speaker), [['10.60.0.0/16', true]], 'kept, stale');
});

t.test('stopForRestart closes the sessions without NOTIFICATION and withdraws nothing', async (t) => {
  const { speaker, changes, connect } = await speakerOn(t);
  const p = await connect(gr(true));
  await announceOne(speaker, p);
  const mark = changes.length;
  await speaker.stopForRestart();
  t.equal(await notificationFrom(p), undefined, 'no NOTIFICATION');
  await until('connection closed', () => p.closed);
  t.same(changes.slice(mark), [], 'no best-route change reached the FIB');
  t.same(learnt(speaker), [['10.60.0.0/16', false]], 'the RIB is left as it was');
});

for (const n of [false, true]) {
  t.test(`RFC 4486: more prefixes than maxPrefixes: Cease 6/1 with AFI, SAFI, limit${n ? ' inside a Hard Reset (RFC 8538 §5)' : ''}, down for the restart time`, async (t) => {
    const { speaker, port, connect } = await speakerOn(t, { peer: { maxPrefixes: 2, maxPrefixRestartTime: 1.5 } });
    const p = await connect(gr(n));
    p.send(encodeMessage({ type: 'update', withdrawn: [], attrs: ATTRS, nlri: ['10.60.0.0/16', '10.61.0.0/16'] }));
    await until('two routes', () => learnt(speaker).length === 2);
    p.send(encodeMessage({ type: 'update', withdrawn: [], attrs: ATTRS, nlri: ['10.62.0.0/16'] }));
    const note = await notificationFrom(p);
    const data = '0001' + '01' + '00000002';
    t.same([note?.code, note?.subcode, note?.data.toString('hex')], n ? [6, 9, '01' + data] : [6, 1, data]);
    await until('routes removed', () => learnt(speaker).length === 0);
    t.match(speaker.peers()[0].lastError, /max-prefix/);
    const downAt = Date.now();
    // held down: a new connection is closed at once, without an OPEN
    const early = new RawPeer(port);
    t.teardown(() => early.sock.destroy());
    t.equal(await early.next(1000), undefined, 'no OPEN while held down');
    t.ok(early.closed, 'connection refused while held down');
    const back = await connect(gr(n));
    t.ok(Date.now() - downAt >= 400, 'reconnected only after the restart time');
    t.ok(back.open, 'session re-established after the restart time');
  });
}
