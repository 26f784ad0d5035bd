// RFC 4271 §6.8 on real sockets: a scripted peer opens a connection to the speaker while the speaker's
// own connection to it is open too, sends OPEN on both, and checks which one the speaker closes.
import t from 'tap';
import * as net from 'node:net';
import { BgpSpeaker } from '../../lib/cni/bgp/speaker';
import { decodeMessage, emptyCapabilities, encodeMessage, Framer, type BgpMessage } from '../../lib/cni/bgp/codec';
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

const open = (routerId: string): Buffer => {
  const caps = emptyCapabilities();
  caps.fourOctetAs = 65002;
  return encodeMessage({ type: 'open', version: 4, asn: 65002, holdTime: 30, routerId, capabilities: caps });
};
const isCollisionCease = (m: BgpMessage): boolean => m.type === 'notification' && m.code === 6 && m.subcode === 7;

for (const [remoteId, survivor] of [['10.0.0.9', 'incoming'], ['10.0.0.0', 'outgoing']] as const) {
  t.test(`peer id ${remoteId} vs ours 10.0.0.5: the speaker keeps its ${survivor} connection`, async (t) => {
    // the scripted peer's listener: the speaker's outgoing connection lands here
    const accepted: net.Socket[] = [];
    const srv = net.createServer((s) => accepted.push(s));
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const peerPort = (srv.address() as net.AddressInfo).port;
    const myPort = await new Promise<number>((r) => { const s = net.createServer(); s.listen(0, '127.0.0.1', () => { const p = (s.address() as net.AddressInfo).port; s.close(() => r(p)); }); });
    const speaker = new BgpSpeaker({
      asn: 65001, routerId: '10.0.0.5', listen: { address: '127.0.0.1', port: myPort }, originate: [],
      peers: [{ address: '127.0.0.1', port: peerPort, asn: 65002 }],
    });
    t.teardown(async () => { await speaker.stop(); for (const s of accepted) s.destroy(); srv.close(); });
    await speaker.start();
    await until('speaker connected out', () => accepted.length === 1);
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
