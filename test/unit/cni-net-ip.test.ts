import t from 'tap';
import { broadcastOf, cidrContains, firstHost, formatIp, formatMac, ipToBytes, networkOf, parseCidr, parseMac } from '../../lib/cni/net/ip';

t.test('IPv4 and IPv6 text round-trips through bytes, IPv6 in RFC 5952 form', async (t) => {
  t.same([...ipToBytes('10.1.2.3')], [10, 1, 2, 3]);
  for (const [input, canonical] of [
    ['fd00::1', 'fd00::1'], ['::', '::'], ['::1', '::1'], ['fe80:0:0:0:0:0:0:1', 'fe80::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], ['::ffff:1.2.3.4', '::ffff:102:304'], ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8'],
  ]) t.equal(formatIp(ipToBytes(input)), canonical, input);
  t.throws(() => ipToBytes('10.1.2'), /invalid IP/);
});

t.test('CIDRs: parse, network, broadcast, first host, containment', async (t) => {
  t.same(parseCidr('10.1.2.3/24'), { ip: '10.1.2.3', prefix: 24, family: 4 });
  t.same(parseCidr('FD00::5/64'), { ip: 'fd00::5', prefix: 64, family: 6 });
  t.throws(() => parseCidr('10.1.2.3'), /no prefix/);
  t.throws(() => parseCidr('10.1.2.3/33'), /bad prefix/);
  t.throws(() => parseCidr('10.1.2.3/2x'), /bad prefix/);
  t.equal(networkOf(parseCidr('10.1.2.3/20')).ip, '10.1.0.0');
  t.equal(networkOf(parseCidr('fd00::abcd/120')).ip, 'fd00::ab00');
  t.equal(broadcastOf(parseCidr('10.1.2.3/20')), '10.1.15.255');
  t.equal(firstHost('10.1.2.3/24'), '10.1.2.1');
  t.equal(firstHost('fd00::9/64'), 'fd00::1');
  t.ok(cidrContains(parseCidr('10.1.0.0/16'), '10.1.200.7'));
  t.notOk(cidrContains(parseCidr('10.1.0.0/16'), '10.2.0.1'));
  t.notOk(cidrContains(parseCidr('10.1.0.0/16'), 'fd00::1'), 'other family');
});

t.test('MAC addresses', async (t) => {
  t.equal(formatMac(parseMac('02:AB:cd:00:00:01')), '02:ab:cd:00:00:01');
  t.throws(() => parseMac('02:ab:cd:00:00'), /invalid MAC/);
});
