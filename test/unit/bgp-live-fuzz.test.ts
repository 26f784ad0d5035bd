// A raw-socket BGP client sends mutated UPDATEs to a live speaker on 127.0.0.1. The speaker must never
// crash, and it must answer with exactly the NOTIFICATION the codec says the RFCs require, or stay up.
import t from 'tap';
import * as net from 'node:net';
import { BgpSpeaker } from '../../lib/cni/bgp/speaker';
import { AFI, BgpError, decodeMessage, encodeMessage, type UpdateMessage } from '../../lib/cni/bgp/codec';
import { RawPeer } from '../helpers/bgp-raw-peer';
import { rng } from '../helpers/random';

const VALID: UpdateMessage = {
  type: 'update', withdrawn: ['10.50.0.0/16'], nlri: ['10.60.0.0/16', '10.61.1.0/24'],
  attrs: {
    mpReach: { afi: AFI.IPV6, safi: 1, nextHop: '2001:db8::2', linkLocalNextHop: 'fe80::2', nlri: ['2001:db8:60::/48'] },
    origin: 0, asPath: [{ type: 2, asns: [65002, 4200000000] }], nextHop: '127.0.0.1', med: 3,
    aggregator: { asn: 65002, address: '10.0.0.2' }, communities: [1], atomicAggregate: true,
  },
};

t.test('mutated UPDATEs on a live session: the speaker survives and NOTIFIES exactly when the codec requires', { timeout: 120_000 }, async (t) => {
  const port = await new Promise<number>((r) => { const s = net.createServer(); s.listen(0, '127.0.0.1', () => { const p = (s.address() as net.AddressInfo).port; s.close(() => r(p)); }); });
  const speaker = new BgpSpeaker({
    asn: 65001, routerId: '10.0.0.1', listen: { address: '127.0.0.1', port }, originate: ['10.244.1.0/24'],
    peers: [{ address: '127.0.0.1', asn: 65002, passive: true, importPolicy: { rules: [], default: 'accept' }, exportPolicy: { rules: [], default: 'accept' } }],
  });
  t.teardown(() => speaker.stop());
  await speaker.start();
  const r = rng(7);
  const base = encodeMessage(VALID);
  let peer: RawPeer | undefined;
  let notified = 0, survived = 0, mismatches = 0, sessions = 0;
  const N = Number(process.env.FUZZ_N ?? 1500);
  for (let i = 0; i < N; i++) {
    if (!peer || peer.closed) { peer?.sock.destroy(); peer = new RawPeer(port); await peer.establish(); sessions++; }
    // mutate the body only and keep the header honest, so the framer sees whole messages
    const b = Buffer.from(base);
    for (let k = 1 + Math.floor(r() * 3); k > 0; k--) b[19 + Math.floor(r() * (b.length - 19))] = r() < 0.5 ? Math.floor(r() * 256) : b[19 + Math.floor(r() * (b.length - 19))] ^ 0xff;
    const cut = r() < 0.2 ? b.subarray(0, 23 + Math.floor(r() * (b.length - 23))) : b;
    cut.writeUInt16BE(cut.length, 16);
    let expected: [number, number] | undefined;
    try { decodeMessage(cut, { as4: true, external: true }); } catch (e) { if (e instanceof BgpError) expected = [e.code, e.subcode]; else throw e; }
    // one write: the refresh right behind the UPDATE shows whether the session survived it
    peer.send(Buffer.concat([cut, encodeMessage({ type: 'route-refresh', afi: AFI.IPV4, safi: 1 })]));
    const reply = await peer.next();
    if (expected) {
      if (reply?.type === 'notification' && reply.code === expected[0] && reply.subcode === expected[1]) notified++;
      else { mismatches++; t.fail(`want NOTIFICATION ${expected.join('/')}, got ${reply?.type} for ${cut.toString('hex')}`); }
      peer.sock.destroy();
      peer = undefined;
    } else if (reply?.type === 'update') {
      survived++;
      while (await peer.next(5)) { /* rest of the refresh */ }
    } else { mismatches++; t.fail(`session should stay up, got ${reply?.type} for ${cut.toString('hex')}`); peer.sock.destroy(); peer = undefined; }
    if (mismatches > 5) break;
  }
  peer?.sock.destroy();
  // the speaker refuses a second connection while the old one is Established (§6.8): wait for the close
  while (speaker.peerState('127.0.0.1') === 'Established') await new Promise((res) => setTimeout(res, 20));
  t.equal(mismatches, 0, 'every reply as the RFCs require');
  t.ok(notified > 100 && survived > 100, `both outcomes exercised: ${notified} NOTIFICATIONs, ${survived} survived, ${sessions} sessions`);
  const last = new RawPeer(port);
  await last.establish();
  t.equal(speaker.peerState('127.0.0.1'), 'Established', 'still serving after the fuzz');
  last.sock.destroy();
});
