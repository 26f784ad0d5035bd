import t from 'tap';
import { parseAgentConfig } from '../../lib/cni/agent/agent-config';
import { openStore } from '../../lib/cni/agent/store/open';

t.test('defaults: embedded store under the data dir, /24 from 10.244.0.0/16, VNI 1 on port 4789', async (t) => {
  const c = parseAgentConfig(['--node', 'n1', '--data-dir', '/tmp/x']);
  t.equal(c.node, 'n1');
  t.equal(c.network, '10.244.0.0/16');
  t.equal(c.subnetLen, 24);
  t.equal(c.vni, 1);
  t.equal(c.port, 4789);
  t.same(c.store.kind, 'embedded');
  t.equal(c.store.dir, '/tmp/x/store');
  t.equal(c.ttlMs, 30_000);
  t.equal(c.intervalMs, 5000);
});

t.test('flags are read', async (t) => {
  const c = parseAgentConfig(['--node', 'a', '--network', '10.0.0.0/8', '--subnet-len', '20', '--vni', '42', '--port', '8472',
    '--store', 'etcd', '--etcd-endpoints', 'http://10.0.0.1:2379,http://10.0.0.2:2379', '--ttl', '6', '--interval', '0.5']);
  t.equal(c.subnetLen, 20);
  t.equal(c.vni, 42);
  t.equal(c.port, 8472);
  t.same(c.store.endpoints, ['http://10.0.0.1:2379', 'http://10.0.0.2:2379']);
  t.equal(c.ttlMs, 6000);
  t.equal(c.intervalMs, 500);
});

t.test('bad input names the flag', async (t) => {
  const bad: [string[], RegExp][] = [
    [['--network', '10.244.0.0/33'], /^--network: invalid IPv4 CIDR/],
    [['--network', '10.244.3.0/16'], /^--network: .*host bits/],
    [['--subnet-len', '12'], /^--subnet-len: subnet length 12/],
    [['--subnet-len', 'x'], /^--subnet-len: invalid value "x"/],
    [['--store', 'consul'], /^--store: unknown store "consul"/],
    [['--store', 'etcd'], /^--etcd-endpoints: required/],
    [['--backend', 'ipip'], /^--backend: unknown backend "ipip"/],
    [['--node', 'bad name'], /^--node: invalid node name/],
    [['--vni', '16777216'], /^--vni: invalid value/],
    [['--ttl', '1'], /^--ttl: invalid value/],
    [['--public-ip', 'fe80::1'], /^--public-ip: invalid IPv4/],
    [['--bogus'], /flag provided but not defined: -bogus/],
  ];
  for (const [args, re] of bad) t.throws(() => parseAgentConfig(args), { message: re }, args.join(' '));
});

t.test('openStore rejects an unknown store and bad etcd endpoints before connecting', async (t) => {
  await t.rejects(openStore({ kind: 'zk' as 'etcd' }), { message: /^--store: unknown store "zk"/ });
  await t.rejects(openStore({ kind: 'etcd', endpoints: [] }), { message: /^--etcd-endpoints: the etcd store needs/ });
  await t.rejects(openStore({ kind: 'etcd', endpoints: ['10.0.0.1:2379'] }), { message: /^--etcd-endpoints: invalid etcd endpoint "10.0.0.1:2379"/ });
  await t.rejects(openStore({ kind: 'embedded' }), { message: /^--store-dir:/ });
});
