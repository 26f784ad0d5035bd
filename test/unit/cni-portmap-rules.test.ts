// The nft rule bodies berth-portmap installs, per family, hostIP and snat.
import t from 'tap';
import { plan } from '../../lib/cni/firewall/portmap';

t.test('one DNAT per mapping and container address, hairpin and localhost SNAT for IPv4', async (t) => {
  const p = plan([{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }], ['10.1.0.5/24', 'fd00::5/64'], { snat: true });
  t.same(p.dnat, ['tcp dport 8080 dnat ip to 10.1.0.5:80', 'tcp dport 8080 dnat ip6 to [fd00::5]:80']);
  t.same(p.snat, [
    'ip saddr 10.1.0.0/24 ip daddr 10.1.0.5 tcp dport 80 ct status dnat masquerade',
    'ip saddr 127.0.0.0/8 ip daddr 10.1.0.5 tcp dport 80 ct status dnat masquerade',
    'ip6 saddr fd00::/64 ip6 daddr fd00::5 tcp dport 80 ct status dnat masquerade',
  ]);
});

t.test('hostIP restricts the destination and skips the other family; snat false adds no SNAT', async (t) => {
  const p = plan([{ hostPort: 53, containerPort: 5353, protocol: 'udp', hostIP: '192.168.1.1' }], ['10.1.0.5/24', 'fd00::5/64'], { snat: false });
  t.same(p.dnat, ['ip daddr 192.168.1.1 udp dport 53 dnat ip to 10.1.0.5:5353']);
  t.same(p.snat, []);
  const any = plan([{ hostPort: 1, containerPort: 2, protocol: 'sctp', hostIP: '0.0.0.0' }], ['10.1.0.5/24'], { snat: false });
  t.same(any.dnat, ['sctp dport 1 dnat ip to 10.1.0.5:2'], '0.0.0.0 means every address');
});
