import t from 'tap';
import { formatIP, parseIP, parsePrefix, contains, networkAddr, lastAddr, parseSpan } from '../../lib/cni/ipam/ip';

t.test('addresses round-trip in the canonical (RFC 5952 / Go) form', async (t) => {
  const cases: [string, string][] = [
    ['10.1.2.3', '10.1.2.3'], ['0.0.0.0', '0.0.0.0'], ['255.255.255.255', '255.255.255.255'],
    ['fd00::1', 'fd00::1'], ['FD00:0:0:0:0:0:0:1', 'fd00::1'], ['::', '::'], ['::1', '::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
    ['::ffff:1.2.3.4', '::ffff:102:304'], ['1:2:3:4:5:6:7::', '1:2:3:4:5:6:7:0'],
  ];
  for (const [input, want] of cases) t.equal(formatIP(parseIP(input)!), want, input);
  for (const bad of ['1.2.3', '1.2.3.256', '01.2.3.4', '1::2::3', '1:2:3:4:5:6:7:8:9', 'g::1', '', '1.2.3.4.5']) {
    t.equal(parseIP(bad), undefined, bad);
  }
});

t.test('prefix arithmetic', async (t) => {
  const p = parsePrefix('10.1.2.3/22')!;
  t.equal(formatIP(networkAddr(p)), '10.1.0.0');
  t.equal(formatIP(lastAddr(p)), '10.1.3.255');
  t.ok(contains(p, parseIP('10.1.3.7')!));
  t.notOk(contains(p, parseIP('10.1.4.0')!));
  t.notOk(contains(p, parseIP('::1')!));
  t.equal(parsePrefix('10.0.0.0/33'), undefined);
  t.equal(parsePrefix('10.0.0.0'), undefined);
  const s = parseSpan('fd00::/126')!;
  t.equal(s.last - s.first, 3n);
});
