// RFC 4271 §6.8 on real sockets: a scripted peer opens a connection to the speaker while the speaker's
// own connection to it is open too, sends OPEN on both, and checks which one the speaker closes; and a
// connection that comes while the session is Idle: taken in the idle hold, refused for a disabled peer.
import t from 'tap';
import * as net from 'node:net';
import { BgpSpeaker, type PeerConfig } from '../../lib/cni/bgp/speaker';
import { AFI, decodeMessage, emptyCapabilities, encodeMessage, Framer, type BgpMessage } from '../../lib/cni/bgp/codec';
import { until as waitUntil } from '../helpers/wait';

/** collects decoded messages of one socket */
function reader(s: net.Socket): { msgs: BgpMessage[]; closed: () => boolean } {
  const f = new Framer();
  const msgs: BgpMessage[] = [];
  let closed = false;
  s.on('data', (d) => { for (const m of f.push(d)) msgs.push(decodeMessage(m)); });
  s.on('close', () => { closed = true; });
  s.on('error', () => {});
  return { msgs, closed: () => closed };
}
const until = (what: string, cond: () => boolean, ms = 5_000): Promise<void> => waitUntil(what, cond, ms, 10);

/** the scripted peer's OPEN; `restart`: with the graceful-restart capability, its R bit as given */
const open = (routerId: string, restart?: { restarting: boolean }): Buffer => {
  const caps = emptyCapabilities();
  caps.fourOctetAs = 65002;
  if (restart) caps.gracefulRestart = { restarting: restart.restarting, notification: false, restartTime: 60, families: [{ afi: AFI.IPV4, safi: 1, forwardingPreserved: true }] };
  return encodeMessage({ type: 'open', version: 4, asn: 65002, holdTime: 30, routerId, capabilities: caps });
};
const isCollisionCease = (m: BgpMessage): boolean => m.type === 'notification' && m.code === 6 && m.subcode === 7;

/** a speaker peering with a scripted peer on 127.0.0.1; `accepted` holds the speaker's outgoing connections */
async function scriptedPeer(t: { teardown(fn: () => unknown): void }, idleHoldTime = 2, peer: Partial<PeerConfig> = {}): Promise<{ speaker: BgpSpeaker; accepted: net.Socket[]; myPort: number }> {
  const accepted: net.Socket[] = [];
  const srv = net.createServer((s) => accepted.push(s));
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const peerPort = (srv.address() as net.AddressInfo).port;
  const myPort = await new Promise<number>((r) => { const s = net.createServer(); s.listen(0, '127.0.0.1', () => { const p = (s.address() as net.AddressInfo).port; s.close(() => r(p)); }); });
  const speaker = new BgpSpeaker({
    asn: 65001, routerId: '10.0.0.5', listen: { address: '127.0.0.1', port: myPort }, originate: [], idleHoldTime,
    peers: [{ address: '127.0.0.1', port: peerPort, asn: 65002, ...peer }],
  });
  t.teardown(async () => { await speaker.stop(); for (const s of accepted) s.destroy(); srv.close(); });
  await speaker.start();
  await until('speaker connected out', () => accepted.length === 1);
  return { speaker, accepted, myPort };
}

for (const [remoteId, survivor] of [['10.0.0.9', 'incoming'], ['10.0.0.0', 'outgoing']] as const) {
  t.test(`peer id ${remoteId} vs ours 10.0.0.5: the speaker keeps its ${survivor} connection`, async (t) => {
    const { speaker, accepted, myPort } = await scriptedPeer(t);
    const out = accepted[0]; // speaker's outgoing connection, seen from the peer
    const outR = reader(out);
    await until('OPEN on the outgoing connection', () => outR.msgs.some((m) => m.type === 'open'));
    const inc = net.connect({ host: '127.0.0.1', port: myPort }); // the peer's own connection: incoming for the speaker
    const incR = reader(inc);
    await new Promise((r) => inc.once('connect', r));
    await until('OPEN on the incoming connection', () => incR.msgs.some((m) => m.type === 'open'));
    out.write(open(remoteId));
    inc.write(open(remoteId));
    const [loser, winner] = survivor === 'incoming' ? [outR, incR] : [incR, outR];
    await until('one connection ceased', () => loser.msgs.some(isCollisionCease));
    t.ok(loser.msgs.some(isCollisionCease), 'the other gets Cease / Connection Collision Resolution (6/7)');
    t.notOk(winner.msgs.some((m) => m.type === 'notification'), 'the survivor gets no NOTIFICATION');
    (survivor === 'incoming' ? inc : out).write(encodeMessage({ type: 'keepalive' }));
    await until('Established on the survivor', () => speaker.peerState('127.0.0.1') === 'Established');
    t.equal(speaker.peers()[0].routerId, remoteId);
  });
}

t.test('a connection that comes during the idle hold is taken as the session: no connection of ours to collide with it', async (t) => {
  const { speaker, accepted, myPort } = await scriptedPeer(t, 5);
  const first = reader(accepted[0]);
  await until('OPEN on the first connection', () => first.msgs.some((m) => m.type === 'open'));
  accepted[0].write(Buffer.concat([open('10.0.0.9'), encodeMessage({ type: 'keepalive' })]));
  await until('Established', () => speaker.peerState('127.0.0.1') === 'Established');
  // the peer restarts: its connection goes, the speaker waits out its 5 s idle hold, the peer comes back
  accepted[0].destroy();
  await until('the session went down', () => speaker.peerState('127.0.0.1') === 'Idle');
  const inc = net.connect({ host: '127.0.0.1', port: myPort });
  const incR = reader(inc);
  await until('OPEN on the peer\'s new connection', () => incR.msgs.some((m) => m.type === 'open'));
  inc.write(Buffer.concat([open('10.0.0.9'), encodeMessage({ type: 'keepalive' })]));
  await until('Established on it', () => speaker.peerState('127.0.0.1') === 'Established');
  t.equal(accepted.length, 1, 'the speaker opened no connection of its own meanwhile');
  t.notOk(incR.msgs.some((m) => m.type === 'notification'), 'and sent no NOTIFICATION');
  inc.destroy();
});

t.test('a disabled peer\'s connection is refused and the peer stays disabled', async (t) => {
  const { speaker, myPort } = await scriptedPeer(t, 1);
  speaker.setPeerEnabled('127.0.0.1', false);
  const inc = net.connect({ host: '127.0.0.1', port: myPort });
  const incR = reader(inc);
  await until('refused', () => incR.closed());
  t.notOk(incR.msgs.some((m) => m.type === 'open'), 'no OPEN sent');
  await new Promise((r) => setTimeout(r, 1500));
  t.equal(speaker.peerState('127.0.0.1'), 'Idle', 'still Idle after the idle hold');
});

t.test('RFC 4724 §4.2: a graceful-restart peer that connects while Established has restarted: the old session goes without NOTIFICATION, its routes stay stale, the new connection is the session', async (t) => {
  const { speaker, accepted, myPort } = await scriptedPeer(t, 2, { importPolicy: { rules: [], default: 'accept' } });
  const first = reader(accepted[0]);
  await until('OPEN on the first connection', () => first.msgs.some((m) => m.type === 'open'));
  const route = encodeMessage({ type: 'update', withdrawn: [], nlri: ['10.9.0.0/16'], attrs: { origin: 0, asPath: [{ type: 2, asns: [65002] }], nextHop: '127.0.0.1' } });
  accepted[0].write(Buffer.concat([open('10.0.0.9', { restarting: false }), encodeMessage({ type: 'keepalive' }), route]));
  await until('the route learnt', () => speaker.routes().some((r) => r.prefix === '10.9.0.0/16'));
  // the peer restarts, and its old connection's end never reaches the speaker (it stays open here)
  const inc = net.connect({ host: '127.0.0.1', port: myPort });
  const incR = reader(inc);
  await until('the old connection closed', () => first.closed());
  t.notOk(first.msgs.some((m) => m.type === 'notification'), 'without a NOTIFICATION');
  t.same(speaker.routes().map((r) => [r.prefix, r.stale]), [['10.9.0.0/16', true]], 'the peer\'s route kept, stale');
  await until('OPEN on the new connection', () => incR.msgs.some((m) => m.type === 'open'));
  inc.write(Buffer.concat([open('10.0.0.9', { restarting: true }), encodeMessage({ type: 'keepalive' }), route, encodeMessage({ type: 'update', withdrawn: [], attrs: {}, nlri: [] })]));
  await until('Established on it, the route fresh again', () => speaker.peerState('127.0.0.1') === 'Established' && speaker.routes().some((r) => r.prefix === '10.9.0.0/16' && !r.stale));
  t.equal(accepted.length, 1, 'the speaker opened no connection of its own');
  inc.destroy();
});

t.test('§6.8: without graceful restart a connection while Established is closed and the session stays', async (t) => {
  const { speaker, accepted, myPort } = await scriptedPeer(t);
  const first = reader(accepted[0]);
  await until('OPEN on the first connection', () => first.msgs.some((m) => m.type === 'open'));
  accepted[0].write(Buffer.concat([open('10.0.0.9'), encodeMessage({ type: 'keepalive' })]));
  await until('Established', () => speaker.peerState('127.0.0.1') === 'Established');
  const inc = net.connect({ host: '127.0.0.1', port: myPort });
  const incR = reader(inc);
  await until('the new connection closed', () => incR.closed());
  t.notOk(first.closed(), 'the old one stays');
  t.equal(speaker.peerState('127.0.0.1'), 'Established');
});
