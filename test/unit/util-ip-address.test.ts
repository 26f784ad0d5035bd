import t from 'tap';
import {
  bits, broadcastOf, bytesToIp, cidrContains, cidrString, contains, firstHost, formatIP, formatPrefix, ipFamily, ipToBytes,
  lastAddr, networkAddr, networkOf, parseCidr, parseIP, parsePrefix, parseSpan,
} from '../../lib/util/ip-address';

const canonical: [string, string][] = [
  ['10.1.2.3', '10.1.2.3'], ['0.0.0.0', '0.0.0.0'], ['255.255.255.255', '255.255.255.255'],
  ['fd00::1', 'fd00::1'], ['FD00:0:0:0:0:0:0:1', 'fd00::1'], ['::', '::'], ['::1', '::1'], ['fe80:0:0:0:0:0:0:1', 'fe80::1'],
  ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
  ['2001:db8:0:0:1:0:0:0', '2001:db8:0:0:1::'], ['1:0:2:3:4:5:6:7', '1:0:2:3:4:5:6:7'],
  ['::ffff:1.2.3.4', '::ffff:102:304'], ['1:2:3:4:5:6:7::', '1:2:3:4:5:6:7:0'], ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8'],
];
const bad = ['1.2.3', '10.1.2', '1.2.3.256', '01.2.3.4', '1::2::3', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7', '1:2:3:4:5:6:7::8',
  'g::1', '12345::', '::1.2.3', '', '1.2.3.4.5', 'fe80::1%eth0'];

t.test('addresses round-trip as bigints and as bytes, in the canonical (RFC 5952 / Go) form', async (t) => {
  for (const [input, want] of canonical) {
    t.equal(formatIP(parseIP(input)!), want, `bigint ${input}`);
    t.equal(bytesToIp(ipToBytes(input)), want, `bytes ${input}`);
  }
  t.same([...ipToBytes('10.1.2.3')], [10, 1, 2, 3]);
  t.equal(ipToBytes('::ffff:1.2.3.4').toString('hex'), '00000000000000000000ffff01020304');
  t.same(parseIP('::2'), { family: 6, n: 2n });
  t.same(parseIP('0.0.1.2'), { family: 4, n: 258n });
  for (const b of bad) {
    t.equal(parseIP(b), undefined, `parseIP ${b}`);
    t.throws(() => ipToBytes(b), /invalid IP address/, `ipToBytes ${b}`);
    t.throws(() => ipFamily(b), /invalid IP address/, `ipFamily ${b}`);
  }
  t.equal(parseIP(7 as unknown as string), undefined, 'not a string');
});

t.test('families and widths', async (t) => {
  t.equal(ipFamily('10.0.0.1'), 4);
  t.equal(ipFamily('fd00::1'), 6);
  t.equal(bits(4), 32);
  t.equal(bits(6), 128);
});

t.test('prefix arithmetic on bigints', async (t) => {
  const p = parsePrefix('10.1.2.3/22')!;
  t.equal(formatIP(networkAddr(p)), '10.1.0.0');
  t.equal(formatIP(lastAddr(p)), '10.1.3.255');
  t.equal(formatPrefix(p), '10.1.2.3/22', 'as written: host bits kept');
  t.ok(contains(p, parseIP('10.1.3.7')!));
  t.notOk(contains(p, parseIP('10.1.4.0')!));
  t.notOk(contains(p, parseIP('::1')!), 'other family');
  t.equal(formatPrefix(parsePrefix('FD00:0::/0')!), 'fd00::/0');
  for (const b of ['10.0.0.0/33', '10.0.0.0', '10.0.0.0/', '10.0.0.0/2x', '10.0.0.0/0024', 'fd00::/129', 'x/8']) t.equal(parsePrefix(b), undefined, b);
  const s = parseSpan('fd00::/126')!;
  t.same(s, { family: 6, first: 0xfd00n << 112n, last: (0xfd00n << 112n) + 3n });
  t.same(parseSpan('10.0.0.5'), { family: 4, first: 0x0a000005n, last: 0x0a000005n });
  t.equal(parseSpan('10.0.0.0/40'), undefined);
  t.equal(parseSpan('10.0.0'), undefined);
});

t.test('CIDRs as text: parse, network, broadcast, first host, containment', async (t) => {
  t.same(parseCidr('10.1.2.3/24'), { ip: '10.1.2.3', prefix: 24, family: 4 });
  t.same(parseCidr('FD00::5/64'), { ip: 'fd00::5', prefix: 64, family: 6 });
  t.throws(() => parseCidr('10.1.2.3'), /no prefix/);
  t.throws(() => parseCidr('10.1.2.3/33'), /bad prefix/);
  t.throws(() => parseCidr('10.1.2.3/2x'), /bad prefix/);
  t.throws(() => parseCidr('10.1.2/24'), /invalid IP address/);
  t.equal(cidrString(parseCidr('FD00::5/64')), 'fd00::5/64');
  t.equal(networkOf(parseCidr('10.1.2.3/20')).ip, '10.1.0.0');
  t.equal(networkOf(parseCidr('fd00::abcd/120')).ip, 'fd00::ab00');
  t.equal(networkOf(parseCidr('10.1.2.3/0')).ip, '0.0.0.0');
  t.equal(broadcastOf(parseCidr('10.1.2.3/20')), '10.1.15.255');
  t.equal(broadcastOf(parseCidr('10.1.2.3/32')), '10.1.2.3');
  t.equal(firstHost('10.1.2.3/24'), '10.1.2.1');
  t.equal(firstHost('fd00::9/64'), 'fd00::1');
  t.ok(cidrContains(parseCidr('10.1.0.0/16'), '10.1.200.7'));
  t.notOk(cidrContains(parseCidr('10.1.0.0/16'), '10.2.0.1'));
  t.notOk(cidrContains(parseCidr('10.1.0.0/16'), 'fd00::1'), 'other family');
});
