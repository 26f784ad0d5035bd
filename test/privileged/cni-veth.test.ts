// berth-veth (ptp semantics): /32 and /128 container addresses, host routes, onlink default routes.
import t, { Test } from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { cni, connect, createNetns, eventually, killChild, peerServer, ping, tcpAsk, TestNetns } from '../helpers/netns';

function lab(t: Test): { node: TestNetns; ctr(): TestNetns; conf: Record<string, unknown> } {
  const node = createNetns('node');
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-ipam-'));
  t.teardown(() => { node.remove(); fs.rmSync(dataDir, { recursive: true, force: true }); });
  return {
    node,
    ctr() {
      const c = createNetns('ctr');
      t.teardown(() => c.remove());
      return c;
    },
    conf: {
      cniVersion: '1.0.0', name: 'ptpnet', type: 'berth-veth',
      ipam: { type: 'host-local', ranges: [[{ subnet: '10.92.0.0/24' }], [{ subnet: 'fd00:92::/64' }]], dataDir },
    },
  };
}

const addrs = (r: { json?: Record<string, unknown> }): string[] => (r.json?.ips as { address: string }[]).map((i) => i.address);

t.test('two containers reach each other and the node over IPv4 and IPv6, with host-prefix addresses', async (t) => {
  const l = lab(t);
  const a = l.ctr(), b = l.ctr();
  const ra = cni(l.node, 'berth-veth', { command: 'ADD', containerId: 'a', netns: a.path }, l.conf);
  const rb = cni(l.node, 'berth-veth', { command: 'ADD', containerId: 'b', netns: b.path }, l.conf);
  t.equal(ra.status, 0, ra.stdout);
  t.equal(rb.status, 0, rb.stdout);
  t.match(addrs(ra), [/^10\.92\.0\.\d+\/32$/, /^fd00:92::[0-9a-f]+\/128$/]);
  t.match(ra.json?.ips, [{ gateway: '10.92.0.1', interface: 1 }, { gateway: 'fe80::1', interface: 1 }]);
  t.match(a.exec('ip', ['route']), /default via 10\.92\.0\.1 dev eth0 onlink/);
  t.match(a.exec('ip', ['-6', 'route']), /default via fe80::1 dev eth0 .*onlink/);
  const [b4, b6] = addrs(rb).map((x) => x.split('/')[0]);
  t.ok(ping(a, b4), 'a reaches b over IPv4');
  t.ok(a.run('busybox', ['ping', '-6', '-c', '1', '-W', '2', b6]).status === 0, 'a reaches b over IPv6');
  t.ok(ping(l.node, addrs(ra)[0].split('/')[0]), 'the node reaches a');
  t.ok(ping(a, '10.92.0.1'), 'a reaches its gateway');
});

t.test('CHECK fails when the host route is removed; DEL twice and with the netns gone succeed', async (t) => {
  const l = lab(t);
  const c = l.ctr();
  const conf = { ...l.conf, ipMasq: true };
  const r = cni(l.node, 'berth-veth', { command: 'ADD', containerId: 'c', netns: c.path }, conf);
  t.equal(r.status, 0, r.stdout);
  const hostVeth = (r.json?.interfaces as { name: string }[])[0].name;
  t.equal(cni(l.node, 'berth-veth', { command: 'CHECK', containerId: 'c', netns: c.path }, { ...conf, prevResult: r.json }).status, 0);
  l.node.exec('ip', ['route', 'del', addrs(r)[0]]);
  const bad = cni(l.node, 'berth-veth', { command: 'CHECK', containerId: 'c', netns: c.path }, { ...conf, prevResult: r.json });
  t.match(bad.json, { code: Number, msg: /host route to 10\.92\.0\.\d+\/32/ });
  t.match(l.node.exec('nft', ['list', 'table', 'inet', 'berth']), /masquerade/);
  t.equal(cni(l.node, 'berth-veth', { command: 'DEL', containerId: 'c', netns: c.path }, conf).status, 0);
  t.equal(cni(l.node, 'berth-veth', { command: 'DEL', containerId: 'c', netns: c.path }, conf).status, 0);
  t.equal(l.node.run('ip', ['link', 'show', hostVeth]).status, 1, 'host veth gone');
  t.notMatch(l.node.exec('nft', ['list', 'table', 'inet', 'berth']), /masquerade/);

  const g = l.ctr();
  const r2 = cni(l.node, 'berth-veth', { command: 'ADD', containerId: 'g', netns: g.path }, conf);
  t.equal(r2.status, 0, r2.stdout);
  g.remove();
  t.equal(cni(l.node, 'berth-veth', { command: 'DEL', containerId: 'g', netns: g.path }, conf).status, 0);
  t.ok(await eventually(() => !/^veth/m.test(l.node.exec('ip', ['-br', 'link']))), 'no host veth left');
});

t.test('bad input is code 7 naming the field; an ADD that fails leaves nothing', async (t) => {
  const l = lab(t);
  const c = l.ctr();
  t.match(cni(l.node, 'berth-veth', { command: 'ADD', netns: c.path }, { ...l.conf, mtu: -1 }).json, { code: 7, msg: /^mtu:/ });
  t.match(cni(l.node, 'berth-veth', { command: 'ADD', netns: c.path }, { ...l.conf, ipam: { type: '' } }).json, { code: 7, msg: /^ipam\.type:/ });
  const r = cni(l.node, 'berth-veth', { command: 'ADD', netns: c.path }, { ...l.conf, ipam: { type: 'host-local', subnet: 'not-a-subnet' } });
  t.equal(r.status, 1, 'IPAM failure is reported');
  t.equal(c.run('ip', ['link', 'show', 'eth0']).status, 1, 'no container interface left');
  t.same(l.node.exec('ip', ['-br', 'link']).split('\n').filter((x) => x.startsWith('veth')), [], 'no host veth left');
});

t.test('ipMasq: traffic to beyond the node leaves with the node address', async (t) => {
  const l = lab(t);
  const outside = createNetns('outside');
  t.teardown(() => outside.remove());
  connect(l.node, 'up0', outside, 'down0');
  l.node.exec('ip', ['addr', 'add', '192.168.201.1/24', 'dev', 'up0']);
  outside.exec('ip', ['addr', 'add', '192.168.201.2/24', 'dev', 'down0']);
  const server = await peerServer(outside, 9000);
  t.teardown(() => killChild(server));
  const c = l.ctr();
  const r = cni(l.node, 'berth-veth', { command: 'ADD', containerId: 'm', netns: c.path }, { ...l.conf, ipMasq: true });
  t.equal(r.status, 0, r.stdout);
  t.equal(tcpAsk(c, '192.168.201.2', 9000), '192.168.201.1 server');
  t.equal(cni(l.node, 'berth-veth', { command: 'DEL', containerId: 'm', netns: c.path }, { ...l.conf, ipMasq: true }).status, 0);
});
