import t from 'tap';
import { AFI, BgpError, decodeMessage, emptyCapabilities, encodeMessage, Framer, type BgpMessage, type CodecContext } from '../../lib/cni/bgp/codec';
import { rng } from '../helpers/random';

function seeds(): Buffer[] {
  const caps = emptyCapabilities();
  caps.multiprotocol.push({ afi: AFI.IPV4, safi: 1 }, { afi: AFI.IPV6, safi: 1 });
  caps.fourOctetAs = 4200000000;
  caps.routeRefresh = true;
  caps.gracefulRestart = { restarting: false, restartTime: 90, families: [{ afi: AFI.IPV4, safi: 1, forwardingPreserved: true }] };
  const msgs: BgpMessage[] = [
    { type: 'open', version: 4, asn: 4200000000, holdTime: 90, routerId: '10.0.0.1', capabilities: caps },
    { type: 'keepalive' },
    { type: 'notification', code: 6, subcode: 4, data: Buffer.from('x') },
    { type: 'route-refresh', afi: AFI.IPV4, safi: 1 },
    {
      type: 'update', withdrawn: ['10.9.0.0/16'], nlri: ['10.0.0.0/8', '192.168.1.0/24'],
      attrs: {
        mpReach: { afi: AFI.IPV6, safi: 1, nextHop: '2001:db8::1', linkLocalNextHop: 'fe80::1', nlri: ['2001:db8::/32'] },
        mpUnreach: { afi: AFI.IPV6, safi: 1, withdrawn: ['2001:db8:1::/48'] },
        origin: 0, asPath: [{ type: 2, asns: [65001, 4200000000] }, { type: 1, asns: [1, 2] }], nextHop: '10.0.0.1',
        med: 5, localPref: 100, atomicAggregate: true, aggregator: { asn: 4200000000, address: '1.1.1.1' },
        communities: [1, 2], originatorId: '2.2.2.2', clusterList: ['3.3.3.3'],
      },
    },
  ];
  return msgs.flatMap((m) => [encodeMessage(m, { as4: true }), encodeMessage(m, { as4: false })]);
}

function mutate(buf: Buffer, r: () => number): Buffer {
  let b = Buffer.from(buf);
  const n = 1 + Math.floor(r() * 4);
  for (let i = 0; i < n; i++) {
    const pos = Math.floor(r() * b.length);
    switch (Math.floor(r() * 6)) {
      case 0: b[pos] ^= 1 << Math.floor(r() * 8); break; // bit flip
      case 1: b[pos] = Math.floor(r() * 256); break; // random byte
      case 2: b[pos] = [0, 1, 0x7f, 0x80, 0xff][Math.floor(r() * 5)]; break; // boundary values
      case 3: b = b.subarray(0, Math.max(0, pos)); break; // truncate
      case 4: b = Buffer.concat([b.subarray(0, pos), Buffer.from([Math.floor(r() * 256)]), b.subarray(pos)]); break; // insert
      case 5: b = Buffer.concat([b.subarray(0, pos), b.subarray(pos + 1)]); break; // delete
    }
  }
  // keep the header length consistent half of the time, so mutations reach the body decoders
  if (b.length >= 19 && r() < 0.5) b.writeUInt16BE(b.length & 0xffff, 16);
  return b;
}

t.test('10,000 mutated messages: the decoder returns or throws BgpError, never anything else, never hangs', async (t) => {
  const r = rng(0xb6b);
  const base = seeds();
  let decoded = 0, typed = 0, untyped = 0;
  const errorCodes = new Set<string>();
  for (let i = 0; i < 10_000; i++) {
    const input = mutate(base[i % base.length], r);
    const ctx: CodecContext = { as4: i % 2 === 0, external: i % 3 === 0 };
    try {
      const m = decodeMessage(input, ctx);
      decoded++;
      // what decodes must encode again (the speaker re-advertises decoded attributes)
      if (m.type === 'update' && !m.treatAsWithdraw) encodeMessage(m, ctx);
    } catch (e) {
      if (e instanceof BgpError) { typed++; errorCodes.add(`${e.code}/${e.subcode}`); }
      else if (e instanceof RangeError && /exceeds 4096/.test(e.message)) typed++; // re-encode grew past the limit
      else { untyped++; t.fail(`input ${input.toString('hex')}: ${String(e)}`); if (untyped > 5) break; }
    }
  }
  t.equal(untyped, 0, 'no untyped exceptions');
  t.ok(decoded > 500 && typed > 500, `both outcomes exercised (decoded ${decoded}, typed errors ${typed})`);
  t.ok(errorCodes.size >= 6, `many distinct NOTIFICATION codes: ${[...errorCodes].sort().join(' ')}`);
});

t.test('the framer, fed mutated streams in random chunks, yields messages or throws BgpError', async (t) => {
  const r = rng(42);
  const base = seeds();
  let untyped = 0;
  for (let i = 0; i < 2000; i++) {
    const stream = Buffer.concat([base[i % base.length], mutate(base[(i + 3) % base.length], r), base[0]]);
    const f = new Framer();
    try {
      for (let off = 0; off < stream.length; ) {
        const n = 1 + Math.floor(r() * 40);
        for (const m of f.push(stream.subarray(off, off + n))) { try { decodeMessage(m); } catch (e) { if (!(e instanceof BgpError)) throw e; } }
        off += n;
      }
    } catch (e) {
      if (!(e instanceof BgpError)) { untyped++; t.fail(String(e)); break; }
    }
  }
  t.equal(untyped, 0);
});
