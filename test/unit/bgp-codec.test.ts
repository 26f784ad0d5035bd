import t from 'tap';
import {
  AFI, BgpError, decodeMessage, encodeMessage, endOfRib, isEndOfRib, emptyCapabilities, Framer, mergeAs4Path,
  type BgpMessage, type OpenMessage, type UpdateMessage, type CodecContext,
} from '../../lib/cni/bgp/codec';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const MARKER = 'ff'.repeat(16);
const AS4: CodecContext = { as4: true };
const AS2: CodecContext = { as4: false };

/** builds an UPDATE from a raw path attribute field (hex) and IPv4 NLRI (hex) */
function rawUpdate(attrsHex: string, nlriHex = '', withdrawnHex = ''): Buffer {
  const w = hex(withdrawnHex), a = hex(attrsHex), n = hex(nlriHex);
  const body = Buffer.concat([Buffer.from([w.length >> 8, w.length & 255]), w, Buffer.from([a.length >> 8, a.length & 255]), a, n]);
  const len = 19 + body.length;
  return Buffer.concat([hex(MARKER), Buffer.from([len >> 8, len & 255, 2]), body]);
}
const ORIGIN_IGP = '40 01 01 00';
const PATH_65001 = '40 02 06 02 01 0000fde9';
const NH_10_0_0_1 = '40 03 04 0a000001';
const NLRI_10_1 = '10 0a01';

function update(m: BgpMessage): UpdateMessage {
  if (m.type !== 'update') throw new Error(`expected update, got ${m.type}`);
  return m;
}
function codeOf(fn: () => unknown): [number, number] | string {
  try { fn(); return 'no error'; } catch (e) { return e instanceof BgpError ? [e.code, e.subcode] : `untyped ${String(e)}`; }
}

t.test('KEEPALIVE, OPEN and UPDATE match byte layouts written from RFC 4271 §4', async (t) => {
  t.equal(encodeMessage({ type: 'keepalive' }).toString('hex'), `${MARKER}001304`);
  const caps = emptyCapabilities();
  caps.multiprotocol.push({ afi: AFI.IPV4, safi: 1 });
  caps.fourOctetAs = 65001;
  const open: OpenMessage = { type: 'open', version: 4, asn: 65001, holdTime: 90, routerId: '10.0.0.1', capabilities: caps };
  const openHex = `${MARKER}002b01 04 fde9 005a 0a000001 0e 02 0c 01 04 0001 00 01 41 04 0000fde9`.replace(/\s/g, '');
  t.equal(encodeMessage(open).toString('hex'), openHex);
  t.same(decodeMessage(hex(openHex)), open);
  const upd: UpdateMessage = { type: 'update', withdrawn: [], nlri: ['10.1.0.0/16'], attrs: { origin: 0, asPath: [{ type: 2, asns: [65001] }], nextHop: '10.0.0.1' } };
  const want = rawUpdate(`${ORIGIN_IGP} ${PATH_65001} ${NH_10_0_0_1}`, NLRI_10_1);
  t.equal(encodeMessage(upd, AS4).toString('hex'), want.toString('hex'));
  t.same(decodeMessage(want, AS4), upd);
});

t.test('OPEN with a 4-octet AS sends AS_TRANS in My AS and keeps unknown and GR capabilities', async (t) => {
  const caps = emptyCapabilities();
  caps.fourOctetAs = 4200000001;
  caps.routeRefresh = true;
  caps.gracefulRestart = { restarting: true, notification: true, restartTime: 120, families: [{ afi: AFI.IPV6, safi: 1, forwardingPreserved: true }] };
  caps.unknown.push({ code: 73, value: Buffer.from('host') });
  caps.multiprotocol.push({ afi: AFI.IPV4, safi: 1 }, { afi: AFI.IPV6, safi: 1 });
  const open: OpenMessage = { type: 'open', version: 4, asn: 4200000001, holdTime: 0, routerId: '192.0.2.1', capabilities: caps };
  const wire = encodeMessage(open);
  t.equal(wire.readUInt16BE(20), 23456, 'My AS is AS_TRANS');
  const back = decodeMessage(wire) as OpenMessage;
  t.same(back, open);
  t.equal(back.capabilities.gracefulRestart?.restartTime, 120);
  t.equal(wire.readUInt16BE(wire.indexOf(Buffer.from([64, 6])) + 2), 0xc000 | 120, 'R and N bits (RFC 4724, RFC 8538) in the restart flags');
});

t.test('NOTIFICATION and ROUTE-REFRESH round-trip; End-of-RIB markers are recognised', async (t) => {
  const n: BgpMessage = { type: 'notification', code: 6, subcode: 2, data: Buffer.from('bye') };
  t.same(decodeMessage(encodeMessage(n)), n);
  const rr: BgpMessage = { type: 'route-refresh', afi: AFI.IPV6, safi: 1, subtype: 0 };
  t.equal(encodeMessage(rr).toString('hex'), `${MARKER}00170500020001`);
  t.same(decodeMessage(encodeMessage(rr)), rr);
  t.equal(isEndOfRib(update(decodeMessage(encodeMessage(endOfRib(AFI.IPV4))))), AFI.IPV4);
  t.equal(isEndOfRib(update(decodeMessage(encodeMessage(endOfRib(AFI.IPV6))))), AFI.IPV6);
  t.equal(encodeMessage(endOfRib(AFI.IPV4)).toString('hex'), `${MARKER}00170200000000`);
  t.equal(isEndOfRib({ type: 'update', withdrawn: ['10.0.0.0/8'], attrs: {}, nlri: [] }), undefined);
});

t.test('every attribute round-trips, with MP_REACH IPv6 global + link-local next hops', async (t) => {
  const full: UpdateMessage = {
    type: 'update', withdrawn: ['192.168.0.0/24'], nlri: ['10.0.0.0/8', '10.2.3.4/32', '0.0.0.0/0'],
    attrs: {
      mpReach: { afi: AFI.IPV6, safi: 1, nextHop: '2001:db8::1', linkLocalNextHop: 'fe80::1', nlri: ['2001:db8:1::/48', '::/0'] },
      mpUnreach: { afi: AFI.IPV6, safi: 1, withdrawn: ['2001:db8:2::/64'] },
      origin: 2, asPath: [{ type: 2, asns: [65001, 4200000000] }, { type: 1, asns: [7, 8] }], nextHop: '10.0.0.1', med: 50,
      localPref: 200, atomicAggregate: true, aggregator: { asn: 4200000000, address: '10.9.9.9' },
      communities: [0xfde90064, 0xffffff01], originatorId: '1.1.1.1', clusterList: ['2.2.2.2', '3.3.3.3'],
      unknown: [{ flags: 0xe0, type: 99, value: Buffer.from([1, 2, 3]) }],
    },
  };
  t.same(decodeMessage(encodeMessage(full, AS4), AS4), full, '4-octet peer');
  // a 2-octet peer: AS4_PATH / AS4_AGGREGATOR carry the real numbers and the decoder rebuilds them
  const wire2 = encodeMessage(full, AS2);
  t.ok(wire2.includes(Buffer.from([0xc0, 17])), 'AS4_PATH present');
  t.same(decodeMessage(wire2, AS2), full, '2-octet peer');
});

t.test('attributes longer than 255 octets use the extended length flag', async (t) => {
  const communities = Array.from({ length: 100 }, (_, i) => 0x10000 + i);
  const m: UpdateMessage = { type: 'update', withdrawn: [], nlri: ['10.0.0.0/24'], attrs: { origin: 0, asPath: [], nextHop: '1.2.3.4', communities } };
  const wire = encodeMessage(m);
  t.ok(wire.includes(Buffer.from([0xd0, 8, 1, 144])), 'flags 0xd0, length 400 in two octets');
  t.same(update(decodeMessage(wire)).attrs.communities, communities);
});

t.test('RFC 6793 §4.2.3 merge keeps the leading 2-octet hops an OLD speaker prepended', async (t) => {
  const merged = mergeAs4Path(
    [{ type: 2, asns: [100, 200, 23456, 23456] }],
    [{ type: 2, asns: [4200000000, 4200000001] }],
  );
  t.same(merged, [{ type: 2, asns: [100, 200] }, { type: 2, asns: [4200000000, 4200000001] }]);
  t.same(mergeAs4Path([{ type: 2, asns: [1] }], [{ type: 2, asns: [2, 3] }]), [{ type: 2, asns: [1] }], 'longer AS4_PATH ignored');
  // AGGREGATOR with a real 2-octet AS means AS4_PATH is stale: ignored
  const wire = rawUpdate(`${ORIGIN_IGP} 40 02 04 02 01 5ba0 ${NH_10_0_0_1} c0 07 06 0064 0a000001 c0 11 06 02 01 fa56ea00`, NLRI_10_1);
  t.same(update(decodeMessage(wire, AS2)).attrs.asPath, [{ type: 2, asns: [23456] }]);
});

t.test('header errors carry RFC 4271 §6.1 codes', async (t) => {
  const ka = encodeMessage({ type: 'keepalive' });
  const badMarker = Buffer.from(ka); badMarker[3] = 0;
  t.same(codeOf(() => decodeMessage(badMarker)), [1, 1]);
  const badType = Buffer.from(ka); badType[18] = 9;
  t.same(codeOf(() => decodeMessage(badType)), [1, 3]);
  const longKa = Buffer.concat([ka, Buffer.from([0])]); longKa.writeUInt16BE(20, 16);
  t.same(codeOf(() => decodeMessage(longKa)), [1, 2]);
  try { decodeMessage(longKa); } catch (e) { t.same((e as BgpError).data, Buffer.from([0, 20]), 'data is the bad length'); }
});

t.test('ROUTE-REFRESH lengths: a BoRR/EoRR of the wrong length is 7/1 with the whole message (RFC 7313 §5)', async (t) => {
  /** A ROUTE-REFRESH for IPv4 unicast with `extra` octets after the 4-octet body (negative: cut short). */
  const refresh = (subtype: number, extra: number): Buffer => {
    const whole = encodeMessage({ type: 'route-refresh', afi: 1, safi: 1, subtype });
    const b = extra >= 0 ? Buffer.concat([whole, Buffer.alloc(extra)]) : whole.subarray(0, whole.length + extra);
    const out = Buffer.from(b);
    out.writeUInt16BE(out.length, 16);
    return out;
  };
  for (const subtype of [1, 2]) {
    for (const extra of [1, -1]) {
      const wire = refresh(subtype, extra);
      t.same(codeOf(() => decodeMessage(wire)), [7, 1], `subtype ${subtype}, length ${wire.length}`);
      try { decodeMessage(wire); } catch (e) { t.same((e as BgpError).data, wire, 'data is the whole message'); }
    }
  }
  t.same(codeOf(() => decodeMessage(refresh(0, 1))), [1, 2], 'a plain request of length 24 is a header length error');
  t.same(codeOf(() => decodeMessage(refresh(0, -2))), [1, 2], 'length 21 cannot even carry a subtype');
  t.match(decodeMessage(refresh(2, 0)), { type: 'route-refresh', subtype: 2 }, 'length 23 decodes');
});

t.test('OPEN errors carry RFC 4271 §6.2 codes', async (t) => {
  const caps = emptyCapabilities();
  const good = encodeMessage({ type: 'open', version: 4, asn: 65001, holdTime: 90, routerId: '10.0.0.1', capabilities: caps });
  const v3 = Buffer.from(good); v3[19] = 3;
  t.same(codeOf(() => decodeMessage(v3)), [2, 1]);
  const hold2 = Buffer.from(good); hold2.writeUInt16BE(2, 22);
  t.same(codeOf(() => decodeMessage(hold2)), [2, 6]);
  const id0 = Buffer.from(good); id0.writeUInt32BE(0, 24);
  t.same(codeOf(() => decodeMessage(id0)), [2, 3]);
  const withParam = Buffer.concat([good.subarray(0, 28), Buffer.from([3, 1, 0, 0])]);
  withParam.writeUInt16BE(withParam.length, 16);
  withParam[28] = 3; withParam[29] = 1; withParam[30] = 1;
  t.same(codeOf(() => decodeMessage(withParam)), [2, 4], 'unknown optional parameter type 1');
});

t.test('UPDATE length inconsistencies and bad NLRI reset the session (RFC 7606 §4, §5.3)', async (t) => {
  const overrun = rawUpdate(ORIGIN_IGP); overrun.writeUInt16BE(500, 21);
  t.same(codeOf(() => decodeMessage(overrun)), [3, 1]);
  t.same(codeOf(() => decodeMessage(rawUpdate(`${ORIGIN_IGP} ${PATH_65001} ${NH_10_0_0_1}`, '21 0a000000 00'))), [3, 10], 'prefix length 33');
  t.same(codeOf(() => decodeMessage(rawUpdate('', '', '18 0a00'))), [3, 10], 'withdrawn prefix truncated');
});

t.test('RFC 7606: treat-as-withdraw for ORIGIN, AS_PATH, NEXT_HOP, MED, LOCAL_PREF, COMMUNITIES, ORIGINATOR_ID, CLUSTER_LIST', async (t) => {
  const cases: Array<[string, string, number]> = [
    ['ORIGIN value 3', `40 01 01 03 ${PATH_65001} ${NH_10_0_0_1}`, 1],
    ['ORIGIN length 2', `40 01 02 0000 ${PATH_65001} ${NH_10_0_0_1}`, 1],
    ['AS_PATH zero-length segment', `${ORIGIN_IGP} 40 02 02 02 00 ${NH_10_0_0_1}`, 2],
    ['AS_PATH segment type 9', `${ORIGIN_IGP} 40 02 06 09 01 0000fde9 ${NH_10_0_0_1}`, 2],
    ['AS_PATH overrun', `${ORIGIN_IGP} 40 02 06 02 02 0000fde9 ${NH_10_0_0_1}`, 2],
    ['NEXT_HOP length 5', `${ORIGIN_IGP} ${PATH_65001} 40 03 05 0a00000100`, 3],
    ['MED length 3', `${ORIGIN_IGP} ${PATH_65001} ${NH_10_0_0_1} 80 04 03 000001`, 4],
    ['LOCAL_PREF length 2 (internal)', `${ORIGIN_IGP} ${PATH_65001} ${NH_10_0_0_1} 40 05 02 0064`, 5],
    ['COMMUNITIES length 6', `${ORIGIN_IGP} ${PATH_65001} ${NH_10_0_0_1} c0 08 06 000100020003`, 8],
    ['COMMUNITIES length 0', `${ORIGIN_IGP} ${PATH_65001} ${NH_10_0_0_1} c0 08 00`, 8],
    ['ORIGINATOR_ID length 3', `${ORIGIN_IGP} ${PATH_65001} ${NH_10_0_0_1} 80 09 03 010101`, 9],
    ['CLUSTER_LIST length 5', `${ORIGIN_IGP} ${PATH_65001} ${NH_10_0_0_1} 80 0a 05 0101010101`, 10],
    ['ORIGIN flagged optional (§3c)', `80 01 01 00 ${PATH_65001} ${NH_10_0_0_1}`, 1],
    ['NEXT_HOP missing (§3d)', `${ORIGIN_IGP} ${PATH_65001}`, 3],
    ['AS_PATH missing (§3d)', `${ORIGIN_IGP} ${NH_10_0_0_1}`, 2],
    ['attribute overruns the list (§4)', `${ORIGIN_IGP} ${PATH_65001} 40 03 09 0a000001`, 3],
  ];
  for (const [name, attrs, type] of cases) {
    const m = update(decodeMessage(rawUpdate(attrs, NLRI_10_1), { as4: true, external: false }));
    t.equal(m.treatAsWithdraw, true, `${name}: treat-as-withdraw`);
    t.ok(m.issues?.some((i) => i.type === type && i.action === 'treat-as-withdraw'), `${name}: issue names attribute ${type}`);
    t.same(m.nlri, ['10.1.0.0/16'], `${name}: NLRI still located so it can be withdrawn`);
  }
  // a withdraw-only UPDATE needs no mandatory attributes
  t.notOk(update(decodeMessage(rawUpdate('', '', NLRI_10_1))).treatAsWithdraw);
});

t.test('RFC 7606: attribute discard for ATOMIC_AGGREGATE, AGGREGATOR, AS4_*, duplicates and iBGP-only attributes from eBGP', async (t) => {
  const base = `${ORIGIN_IGP} ${PATH_65001} ${NH_10_0_0_1}`;
  const cases: Array<[string, string, number, CodecContext]> = [
    ['ATOMIC_AGGREGATE length 1', `${base} 40 06 01 00`, 6, AS4],
    ['AGGREGATOR length 7', `${base} c0 07 07 00000064 0a0000`, 7, AS4],
    ['AS4_AGGREGATOR length 4', `${base} c0 12 04 00000064`, 18, AS2],
    ['AS4_PATH with a confed segment', `${base} c0 11 06 03 01 00000064`, 17, AS2],
    ['duplicate MED', `${base} 80 04 04 00000001 80 04 04 00000002`, 4, AS4],
    ['LOCAL_PREF from eBGP', `${base} 40 05 04 00000064`, 5, { as4: true, external: true }],
    ['ORIGINATOR_ID from eBGP', `${base} 80 09 04 01010101`, 9, { as4: true, external: true }],
    ['CLUSTER_LIST from eBGP', `${base} 80 0a 04 01010101`, 10, { as4: true, external: true }],
  ];
  for (const [name, attrs, type, ctx] of cases) {
    const m = update(decodeMessage(rawUpdate(attrs.replace(PATH_65001, ctx.as4 ? PATH_65001 : '40 02 04 02 01 fde9'), NLRI_10_1), ctx));
    t.notOk(m.treatAsWithdraw, `${name}: routes kept`);
    t.ok(m.issues?.some((i) => i.type === type && i.action === 'attribute-discard'), `${name}: discarded`);
  }
  const dup = update(decodeMessage(rawUpdate(`${base} 80 04 04 00000001 80 04 04 00000002`, NLRI_10_1)));
  t.equal(dup.attrs.med, 1, 'first MED wins');
});

t.test('RFC 7606 session reset: MP attribute errors, repeated MP_REACH, unknown well-known attribute', async (t) => {
  const base = `${ORIGIN_IGP} ${PATH_65001}`;
  const mp = '80 0e 1a 0002 01 10 20010db8000000000000000000000001 00 20 20010db8';
  t.notOk(update(decodeMessage(rawUpdate(`${mp} ${base}`))).treatAsWithdraw, 'valid MP_REACH');
  t.same(update(decodeMessage(rawUpdate(`${mp} ${base}`))).attrs.mpReach?.nlri, ['2001:db8::/32']);
  t.same(codeOf(() => decodeMessage(rawUpdate(`${mp} ${mp} ${base}`))), [3, 1], 'repeated');
  t.same(codeOf(() => decodeMessage(rawUpdate(`80 0e 19 0002 01 0f 20010db80000000000000000000000 00 20 20010db8 ${base}`))), [3, 9], 'next hop length 15');
  t.same(codeOf(() => decodeMessage(rawUpdate(`80 0e 1a 0002 01 10 20010db8000000000000000000000001 00 81 20010db8 ${base}`))), [3, 9], 'prefix length 129');
  t.same(codeOf(() => decodeMessage(rawUpdate(`c0 0e 1a 0002 01 10 20010db8000000000000000000000001 00 20 20010db8 ${base}`))), [3, 4], 'MP_REACH flagged transitive');
  t.same(codeOf(() => decodeMessage(rawUpdate(`${base} 40 63 01 00`, NLRI_10_1))), [3, 2], 'well-known type 99');
  const u = update(decodeMessage(rawUpdate(`${base} ${NH_10_0_0_1} 80 63 01 00 c0 64 01 07`, NLRI_10_1)));
  t.same(u.attrs.unknown, [{ flags: 0xe0, type: 100, value: Buffer.from([7]) }], 'optional transitive kept with Partial, non-transitive dropped');
});

t.test('the framer handles partial reads and several messages per chunk', async (t) => {
  const a = encodeMessage({ type: 'keepalive' });
  const b = encodeMessage({ type: 'update', withdrawn: [], nlri: ['10.0.0.0/8'], attrs: { origin: 0, asPath: [], nextHop: '1.1.1.1' } });
  const stream = Buffer.concat([a, b, a]);
  const f = new Framer();
  const got: Buffer[] = [];
  for (let i = 0; i < stream.length; i += 7) got.push(...f.push(stream.subarray(i, i + 7)));
  t.same(got.map((x) => x.toString('hex')), [a, b, a].map((x) => x.toString('hex')));
  t.equal(f.buffered, 0);
  const f2 = new Framer();
  t.equal(f2.push(stream).length, 3, 'one chunk, three messages');
  t.same(codeOf(() => new Framer().push(Buffer.alloc(19))), [1, 1], 'garbage stream');
});
