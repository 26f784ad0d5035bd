import t from 'tap';
import { checkSubnetLen, isSubnetOf, nthSubnet, parseNet, pickSubnet, subnetAddrs, subnetCount } from '../../lib/cni/agent/subnets';

t.test('parseNet reads a CIDR and names the field when it is bad', async (t) => {
  t.same(parseNet('10.244.0.0/16', '--network'), { base: 0x0af40000, prefix: 16 });
  t.throws(() => parseNet('10.244.0.0', '--network'), { message: /^--network: invalid IPv4 CIDR "10.244.0.0"/ });
  t.throws(() => parseNet('10.300.0.0/16', '--network'), { message: /^--network: invalid/ });
  t.throws(() => parseNet('10.244.0.0/33', '--network'), { message: /^--network: invalid/ });
  t.throws(() => parseNet('fd00::/64', 'network'), { message: /^network: invalid IPv4 CIDR/ });
  t.throws(() => parseNet('10.244.1.0/16', '--network'), { message: /^--network: "10.244.1.0\/16" has host bits set \(network is 10.244.0.0\/16\)/ });
});

t.test('subnet length must fit inside the network', async (t) => {
  const net = parseNet('10.244.0.0/16', 'n');
  t.doesNotThrow(() => checkSubnetLen(net, 24, '--subnet-len'));
  t.throws(() => checkSubnetLen(net, 16, '--subnet-len'), { message: /^--subnet-len: subnet length 16 must be longer/ });
  t.throws(() => checkSubnetLen(net, 30, '--subnet-len'), { message: /at most \/28/ });
  t.equal(subnetCount(net, 24), 256);
  t.equal(nthSubnet(net, 24, 3), '10.244.3.0/24');
  t.equal(nthSubnet(parseNet('10.0.0.0/8', 'n'), 20, 17), '10.1.16.0/20');
});

t.test('pickSubnet skips the first subnet, honours a free preferred one, and reports exhaustion', async (t) => {
  const net = parseNet('10.244.0.0/22', 'n');
  t.equal(pickSubnet(net, 24, new Set()), '10.244.1.0/24', 'first subnet (the network address) is skipped');
  t.equal(pickSubnet(net, 24, new Set(['10.244.1.0/24'])), '10.244.2.0/24');
  t.equal(pickSubnet(net, 24, new Set(), '10.244.3.0/24'), '10.244.3.0/24', 'preferred when free');
  t.equal(pickSubnet(net, 24, new Set(['10.244.3.0/24']), '10.244.3.0/24'), '10.244.1.0/24', 'preferred taken: lowest free');
  t.equal(pickSubnet(net, 24, new Set(), '10.245.3.0/24'), '10.244.1.0/24', 'preferred outside the network is ignored');
  t.equal(pickSubnet(net, 24, new Set(), '10.244.3.0/25'), '10.244.1.0/24', 'preferred of another length is ignored');
  t.equal(pickSubnet(net, 24, new Set(['10.244.1.0/24', '10.244.2.0/24', '10.244.3.0/24'])), undefined);
  t.ok(isSubnetOf(net, 24, '10.244.2.0/24'));
  t.notOk(isSubnetOf(net, 24, '10.244.2.1/24'));
  t.notOk(isSubnetOf(net, 24, 'garbage'));
});

t.test('subnetAddrs gives the network address (VTEP address, route gateway) and the first host (bridge)', async (t) => {
  t.same(subnetAddrs('10.244.7.0/24'), { network: '10.244.7.0', gateway: '10.244.7.1', prefix: 24 });
  t.same(subnetAddrs('10.1.16.0/20'), { network: '10.1.16.0', gateway: '10.1.16.1', prefix: 20 });
});
