// The IPv6 side of a BGP network: each node's IPv6 block is paired with its IPv4 lease (same index), the
// flags that enable it name themselves in errors, and IPv4-only configs produce the same plan as before.
import t from 'tap';
import { parseAgentConfig } from '../../lib/cni/agent/agent-config';
import { planPeers } from '../../lib/cni/agent/backends/bgp/plan';
import { parseNet } from '../../lib/cni/agent/subnets';
import { block6Of, checkSubnetLen6, formatIp6, pairedBlock6, parseNet6 } from '../../lib/cni/agent/subnets6';
import type { Lease } from '../../lib/cni/agent/store/types';

const lease = (node: string, i: number): Lease => ({ node, publicIp: `10.250.0.${i}`, vtepMac: '', backend: 'bgp', subnet: `10.244.${i}.0/24`, expiresAt: 0 });

t.test('the i-th IPv4 block gets the i-th IPv6 block', async (t) => {
  const v4 = parseNet('10.244.0.0/16', 'n');
  const v6 = parseNet6('fd00:244::/48', 'n6');
  t.equal(pairedBlock6(v4, 24, '10.244.1.0/24', v6, 122), 'fd00:244::40/122');
  t.equal(pairedBlock6(v4, 24, '10.244.255.0/24', v6, 64), 'fd00:244:0:ff::/64');
  t.equal(pairedBlock6(v4, 26, '10.244.0.192/26', v6, 120), 'fd00:244::300/120', 'index 3 of /26 blocks');
  t.equal(block6Of('10.244.0.0/16', 24, '10.244.2.0/24', { network: 'fd00:244::/56', subnetLen: 120 }), 'fd00:244::200/120');
  t.equal(block6Of('10.244.0.0/16', 24, '10.244.2.0/24', undefined), undefined, 'no IPv6 range: no block');
  t.equal(formatIp6(0n), '::');
  t.equal(formatIp6(parseNet6('2001:db8:0:0:1:0:0:0/128', 'x').base), '2001:db8:0:0:1::', 'RFC 5952: the longer zero run is compressed');
});

t.test('bad IPv6 input names the flag', async (t) => {
  const bad: [string[], RegExp][] = [
    [['--network6', 'fd00:244::'], /--network6: invalid IPv6 CIDR/],
    [['--network6', '10.0.0.0/8'], /--network6: invalid IPv6 CIDR/],
    [['--network6', 'fd00:244::1/48'], /--network6: .*host bits set \(network is fd00:244::\/48\)/],
    [['--network6', 'fd00:::1/48'], /--network6/],
    [['--network6', 'fd00:244::/48', '--subnet-len6', '48'], /--subnet-len6: .*longer than the range's \/48/],
    [['--network6', 'fd00:244::/48', '--subnet-len6', '126'], /--subnet-len6: .*at most \/124/],
    [['--network6', 'fd00:244::/120', '--subnet-len6', '124'], /--subnet-len6: .*2\^4 blocks of \/124, fewer than the 2\^8 IPv4 blocks/],
    [['--subnet-len6', '64'], /--subnet-len6: needs --network6/],
  ];
  for (const [args, re] of bad) {
    try { parseAgentConfig(['--node', 'n1', '--backend', 'bgp', ...args]); t.fail(`accepted ${args.join(' ')}`); } catch (e) { t.match(`${(e as { field?: string }).field}: ${(e as Error).message}`, re, args.join(' ')); }
  }
  t.throws(() => parseAgentConfig(['--node', 'n1', '--network6', 'fd00:244::/48']), /IPv6 containers need --backend bgp/, 'vxlan: refused, not ignored');
  t.throws(() => checkSubnetLen6(parseNet('10.0.0.0/8', 'n'), 24, parseNet6('fd00::/32', 'n6'), 40, 'f'), /fewer than/);
});

t.test('with an IPv6 range the iBGP sessions carry IPv6 too, next hop our IPv6 underlay address; without, nothing changes', async (t) => {
  const c6 = parseAgentConfig(['--node', 'n1', '--backend', 'bgp', '--network6', 'fd00:244::/48']).bgp!;
  t.same(c6.ipv6, { network: 'fd00:244::/48', subnetLen: 122 }, 'Calico\'s /122 blocks by default');
  const own = lease('n1', 1);
  const p6 = planPeers(own, [own, lease('n2', 2)], c6, 'fd00:b0::1');
  t.same(p6[0].config.families, ['ipv4', 'ipv6']);
  t.equal(p6[0].config.nextHop6, 'fd00:b0::1');
  const c4 = parseAgentConfig(['--node', 'n1', '--backend', 'bgp']).bgp!;
  t.notOk('ipv6' in c4, 'no ipv6 key at all in an IPv4-only config');
  const p4 = planPeers(own, [own, lease('n2', 2)], c4);
  t.same(p4[0].config, { address: '10.250.0.2', asn: 64512, port: 179, localAddress: '10.250.0.1', holdTime: 90, families: ['ipv4'], description: 'node n2' }, 'IPv4-only peer config exactly as before');
});
