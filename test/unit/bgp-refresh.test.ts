// Route refresh per AFI/SAFI (RFC 2918 §4) and enhanced route refresh (RFC 7313) against a raw peer.
import t, { type Test } from 'tap';
import { BgpSpeaker } from '../../lib/cni/bgp/speaker';
import { AFI, REFRESH, encodeMessage, type BgpMessage } from '../../lib/cni/bgp/codec';
import { RawPeer } from '../helpers/bgp-raw-peer';
import { freeLoopbackPort } from '../helpers/wait';

const ACCEPT = { rules: [], default: 'accept' as const };

async function setup(t: Test, enhanced: boolean): Promise<{ speaker: BgpSpeaker; peer: RawPeer }> {
  const port = await freeLoopbackPort();
  const speaker = new BgpSpeaker({
    asn: 65001, routerId: '10.0.0.1', listen: { address: '127.0.0.1', port }, originate: ['10.244.1.0/24', '10.244.2.0/24', '2001:db8:1::/48'],
    peers: [{ address: '127.0.0.1', asn: 65002, passive: true, importPolicy: ACCEPT, exportPolicy: ACCEPT, nextHop6: '2001:db8::1' }],
  });
  await speaker.start();
  const peer = new RawPeer(port);
  t.teardown(async () => { peer.sock.destroy(); await speaker.stop(); });
  await peer.establish(enhanced ? { enhancedRouteRefresh: true } : {});
  return { speaker, peer };
}

/** every message that arrives within `ms`, keepalives left out */
async function collect(peer: RawPeer, ms = 400): Promise<BgpMessage[]> {
  const out: BgpMessage[] = [];
  const end = Date.now() + ms;
  for (;;) {
    const left = end - Date.now();
    if (left <= 0) return out;
    const m = await peer.next(left);
    if (m && m.type !== 'keepalive') out.push(m);
  }
}

const describe = (m: BgpMessage): string =>
  m.type === 'route-refresh' ? `refresh ${m.afi}/${m.subtype ?? 0}`
    : m.type === 'update' ? `update ${[...m.nlri, ...(m.attrs.mpReach?.nlri ?? [])].join(',')}${m.attrs.mpUnreach ? ` eor ${m.attrs.mpUnreach.afi}` : ''}`
    : m.type;

t.test('RFC 2918: a refresh for IPv6 re-sends the IPv6 routes and nothing of IPv4, and the reverse', async (t) => {
  const { peer } = await setup(t, false);
  await collect(peer, 200);
  peer.send(encodeMessage({ type: 'route-refresh', afi: AFI.IPV6, safi: 1 }));
  t.same((await collect(peer)).map(describe), ['update 2001:db8:1::/48'], 'IPv6 only');
  peer.send(encodeMessage({ type: 'route-refresh', afi: AFI.IPV4, safi: 1 }));
  t.same((await collect(peer)).map(describe), ['update 10.244.1.0/24,10.244.2.0/24'], 'IPv4 only');
  // §4: a family that was not negotiated (SAFI 2, multicast) is ignored
  peer.send(encodeMessage({ type: 'route-refresh', afi: AFI.IPV4, safi: 2 }));
  t.same((await collect(peer)).map(describe), [], 'unnegotiated AFI/SAFI: nothing');
  // RFC 7313 §5: BoRR without the capability is ignored
  peer.send(encodeMessage({ type: 'route-refresh', afi: AFI.IPV4, safi: 1, subtype: REFRESH.BEGIN }));
  t.same((await collect(peer)).map(describe), [], 'BoRR without enhanced refresh: nothing');
});

t.test('RFC 7313 §4: with enhanced refresh on both sides the re-advertisement sits between BoRR and EoRR', async (t) => {
  const { peer } = await setup(t, true);
  await collect(peer, 200);
  peer.send(encodeMessage({ type: 'route-refresh', afi: AFI.IPV6, safi: 1 }));
  t.same((await collect(peer)).map(describe), ['refresh 2/1', 'update 2001:db8:1::/48', 'refresh 2/2']);
});

t.test('RFC 7313 §4.2: routes not re-sent between the peer\'s BoRR and EoRR go; other families stay', async (t) => {
  const { speaker, peer } = await setup(t, true);
  const attrs = { origin: 0 as const, asPath: [{ type: 2 as const, asns: [65002] }], nextHop: '127.0.0.1' };
  peer.send(encodeMessage({ type: 'update', withdrawn: [], attrs, nlri: ['10.60.0.0/16', '10.61.0.0/16'] }));
  peer.send(encodeMessage({ type: 'update', withdrawn: [], nlri: [], attrs: { origin: 0 as const, asPath: attrs.asPath, mpReach: { afi: AFI.IPV6, safi: 1, nextHop: '2001:db8::2', nlri: ['2001:db8:60::/48'] } } }));
  const from = (): string[] => speaker.routes().filter((r) => r.from !== 'local').map((r) => r.prefix).sort();
  const until = async (want: string[]): Promise<void> => { for (let i = 0; i < 100 && from().join() !== want.join(); i++) await new Promise((r) => setTimeout(r, 20)); };
  await until(['10.60.0.0/16', '10.61.0.0/16', '2001:db8:60::/48']);
  t.same(from(), ['10.60.0.0/16', '10.61.0.0/16', '2001:db8:60::/48']);
  peer.send(encodeMessage({ type: 'route-refresh', afi: AFI.IPV4, safi: 1, subtype: REFRESH.BEGIN }));
  peer.send(encodeMessage({ type: 'update', withdrawn: [], attrs, nlri: ['10.60.0.0/16'] }));
  await new Promise((r) => setTimeout(r, 100));
  t.same(from(), ['10.60.0.0/16', '10.61.0.0/16', '2001:db8:60::/48'], 'stale routes stay in use until EoRR');
  peer.send(encodeMessage({ type: 'route-refresh', afi: AFI.IPV4, safi: 1, subtype: REFRESH.END }));
  await until(['10.60.0.0/16', '2001:db8:60::/48']);
  t.same(from(), ['10.60.0.0/16', '2001:db8:60::/48'], 'EoRR removed the IPv4 route not re-sent; IPv6 untouched');
});
