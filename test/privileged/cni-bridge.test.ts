// berth-bridge against the real kernel. Every plugin runs inside a "node" netns the test creates; the
// containers are netns too; an "outside" netns joined to the node by a veth plays the world beyond it.
import t, { Test } from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { cni, connect, createNetns, eventually, killChild, peerServer, ping, tcpAsk, TestNetns } from '../helpers/netns';

interface Lab { node: TestNetns; dataDir: string; ctr(): TestNetns; conf(over?: Record<string, unknown>): Record<string, unknown> }

function lab(t: Test): Lab {
  const node = createNetns('node');
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-ipam-'));
  t.teardown(() => { node.remove(); fs.rmSync(dataDir, { recursive: true, force: true }); });
  return {
    node,
    dataDir,
    ctr() {
      const c = createNetns('ctr');
      t.teardown(() => c.remove());
      return c;
    },
    conf: (over = {}) => ({
      cniVersion: '1.0.0', name: 'testnet', type: 'berth-bridge', bridge: 'br-test', isGateway: true,
      ipam: { type: 'host-local', subnet: '10.88.0.0/24', dataDir }, ...over,
    }),
  };
}

const ipOf = (r: { json?: Record<string, unknown> }): string => String((r.json?.ips as { address: string }[])[0].address).split('/')[0];

t.test('two containers on one bridge reach each other and the gateway', async (t) => {
  const l = lab(t);
  const a = l.ctr(), b = l.ctr();
  const ra = cni(l.node, 'berth-bridge', { command: 'ADD', containerId: 'a', netns: a.path }, l.conf());
  const rb = cni(l.node, 'berth-bridge', { command: 'ADD', containerId: 'b', netns: b.path }, l.conf());
  t.equal(ra.status, 0, ra.stdout);
  t.equal(rb.status, 0, rb.stdout);
  const ifs = ra.json?.interfaces as { name: string; sandbox?: string; mac: string }[];
  t.same(ifs.map((i) => i.name), ['br-test', ifs[1].name, 'eth0']);
  t.equal(ifs[2].sandbox, a.path);
  t.match(ra.json?.ips, [{ address: /^10\.88\.0\.\d+\/24$/, gateway: '10.88.0.1', interface: 2 }]);
  t.match(a.exec('ip', ['link', 'show', 'eth0']), new RegExp(ifs[2].mac));
  t.ok(ping(a, ipOf(rb)), 'a reaches b');
  t.ok(ping(b, ipOf(ra)), 'b reaches a');
  t.ok(ping(a, '10.88.0.1'), 'a reaches the gateway');
  t.match(l.node.exec('ip', ['-br', 'addr', 'show', 'br-test']), /10\.88\.0\.1\/24/);
  t.equal(l.node.exec('cat', ['/proc/sys/net/ipv4/ip_forward']).trim(), '1');
});

t.test('ipMasq: the outside sees the node address; without it, the container address', async (t) => {
  const l = lab(t);
  const outside = createNetns('outside');
  t.teardown(() => outside.remove());
  connect(l.node, 'up0', outside, 'down0');
  l.node.exec('ip', ['addr', 'add', '192.168.200.1/24', 'dev', 'up0']);
  outside.exec('ip', ['addr', 'add', '192.168.200.2/24', 'dev', 'down0']);
  // the outside knows the way back to both subnets, so only masquerading can hide the container
  outside.exec('ip', ['route', 'add', '10.88.0.0/23', 'via', '192.168.200.1']);
  const server = await peerServer(outside, 9000);
  t.teardown(() => killChild(server));

  const masq = l.ctr(), plain = l.ctr();
  const rm = cni(l.node, 'berth-bridge', { command: 'ADD', containerId: 'm', netns: masq.path }, l.conf({ isDefaultGateway: true, ipMasq: true }));
  t.equal(rm.status, 0, rm.stdout);
  const rp = cni(l.node, 'berth-bridge', { command: 'ADD', containerId: 'p', netns: plain.path },
    l.conf({ name: 'plainnet', bridge: 'br-plain', isDefaultGateway: true, ipam: { type: 'host-local', subnet: '10.88.1.0/24', dataDir: l.dataDir } }));
  t.equal(rp.status, 0, rp.stdout);
  t.equal(tcpAsk(masq, '192.168.200.2', 9000), '192.168.200.1 server');
  t.equal(tcpAsk(plain, '192.168.200.2', 9000), `${ipOf(rp)} server`);
  t.ok(ping(masq, ipOf(rm).replace(/\d+$/, '1')), 'traffic inside the subnet still works');

  t.equal(cni(l.node, 'berth-bridge', { command: 'DEL', containerId: 'm', netns: masq.path }, l.conf({ isDefaultGateway: true, ipMasq: true })).status, 0);
  const rules = l.node.exec('nft', ['list', 'table', 'inet', 'berth']);
  t.notMatch(rules, /masquerade/, 'DEL removed exactly the masquerade rules');
  t.notMatch(rules, /berth masq testnet/);
});

t.test('CHECK passes after ADD and fails once the address is removed by hand', async (t) => {
  const l = lab(t);
  const c = l.ctr();
  const conf = l.conf({ ipMasq: true });
  const r = cni(l.node, 'berth-bridge', { command: 'ADD', netns: c.path }, conf);
  t.equal(r.status, 0, r.stdout);
  const ok = cni(l.node, 'berth-bridge', { command: 'CHECK', netns: c.path }, { ...conf, prevResult: r.json });
  t.equal(ok.status, 0, ok.stdout);
  c.exec('ip', ['addr', 'del', (r.json?.ips as { address: string }[])[0].address, 'dev', 'eth0']);
  const bad = cni(l.node, 'berth-bridge', { command: 'CHECK', netns: c.path }, { ...conf, prevResult: r.json });
  t.equal(bad.status, 1);
  t.match(bad.json, { code: Number, msg: /lacks address 10\.88\.0\.\d+\/24/ });
  const noPrev = cni(l.node, 'berth-bridge', { command: 'CHECK', netns: c.path }, conf);
  t.match(noPrev.json, { code: 7, msg: /prevResult/ });
});

t.test('DEL twice succeeds, DEL with the netns gone succeeds, and nothing is left behind', async (t) => {
  const l = lab(t);
  const c = l.ctr();
  const conf = l.conf({ ipMasq: true });
  const r = cni(l.node, 'berth-bridge', { command: 'ADD', containerId: 'x', netns: c.path }, conf);
  t.equal(r.status, 0, r.stdout);
  const hostVeth = (r.json?.interfaces as { name: string }[])[1].name;
  t.equal(cni(l.node, 'berth-bridge', { command: 'DEL', containerId: 'x', netns: c.path }, conf).status, 0);
  t.equal(cni(l.node, 'berth-bridge', { command: 'DEL', containerId: 'x', netns: c.path }, conf).status, 0, 'second DEL');
  t.equal(l.node.run('ip', ['link', 'show', hostVeth]).status, 1, 'host veth gone');
  t.equal(c.run('ip', ['link', 'show', 'eth0']).status, 1, 'container veth gone');
  t.same(fs.readdirSync(path.join(l.dataDir, 'testnet')).filter((f) => /^\d/.test(f)), [], 'address released');

  const gone = l.ctr();
  const r2 = cni(l.node, 'berth-bridge', { command: 'ADD', containerId: 'y', netns: gone.path }, conf);
  t.equal(r2.status, 0, r2.stdout);
  gone.remove();
  const d = cni(l.node, 'berth-bridge', { command: 'DEL', containerId: 'y', netns: gone.path }, conf);
  t.equal(d.status, 0, d.stdout);
  t.equal(cni(l.node, 'berth-bridge', { command: 'DEL', containerId: 'y' }, conf).status, 0, 'DEL without CNI_NETNS');
  t.notMatch(l.node.exec('nft', ['list', 'ruleset']), /masquerade/);
  t.ok(await eventually(() => !/^veth/m.test(l.node.exec('ip', ['-br', 'link']))), 'no host veth left');
});

t.test('mtu, hairpinMode, promiscMode, runtimeConfig.mac and macspoofchk reach the kernel', async (t) => {
  const l = lab(t);
  const c = l.ctr();
  const conf = l.conf({ mtu: 1400, hairpinMode: true, promiscMode: true, macspoofchk: true, runtimeConfig: { mac: '02:42:ac:11:00:09' } });
  const r = cni(l.node, 'berth-bridge', { command: 'ADD', netns: c.path }, conf);
  t.equal(r.status, 0, r.stdout);
  const hostVeth = (r.json?.interfaces as { name: string }[])[1].name;
  t.match(c.exec('ip', ['link', 'show', 'eth0']), /mtu 1400 .*link\/ether 02:42:ac:11:00:09/s);
  t.match(l.node.exec('ip', ['link', 'show', hostVeth]), /mtu 1400 .*master br-test/s);
  t.match(l.node.exec('bridge', ['-d', 'link', 'show', 'dev', hostVeth]), /hairpin on/);
  t.match(l.node.exec('ip', ['link', 'show', 'br-test']), /PROMISC/);
  t.ok(ping(c, '10.88.0.1'), 'the real MAC passes');
  // spoof: the container changes its MAC; its frames must now be dropped at the bridge
  c.exec('ip', ['link', 'set', 'eth0', 'address', '02:42:ac:11:00:0a']);
  l.node.exec('ip', ['neigh', 'flush', 'dev', 'br-test']);
  t.notOk(ping(c, '10.88.0.1'), 'a spoofed MAC is dropped');
  t.equal(cni(l.node, 'berth-bridge', { command: 'DEL', netns: c.path }, conf).status, 0);
  t.notMatch(l.node.exec('nft', ['list', 'table', 'bridge', 'berth']), /drop/, 'macspoof rules removed');
});

t.test('forceAddress: a foreign bridge address is an error, or is replaced when forced', async (t) => {
  const l = lab(t);
  l.node.exec('ip', ['link', 'add', 'br-test', 'type', 'bridge']);
  l.node.exec('ip', ['addr', 'add', '10.88.0.200/24', 'dev', 'br-test']);
  const c = l.ctr();
  const r = cni(l.node, 'berth-bridge', { command: 'ADD', netns: c.path }, l.conf());
  t.equal(r.status, 1);
  t.match(r.json, { msg: /already has address 10\.88\.0\.200\/24.*forceAddress/ });
  t.equal(c.run('ip', ['link', 'show', 'eth0']).status, 1, 'the failed ADD left no interface');
  t.same(fs.readdirSync(path.join(l.dataDir, 'testnet')).filter((f) => /^\d/.test(f)), [], 'and no address allocated');
  const f = cni(l.node, 'berth-bridge', { command: 'ADD', netns: c.path }, l.conf({ forceAddress: true }));
  t.equal(f.status, 0, f.stdout);
  const addrs = l.node.exec('ip', ['-br', 'addr', 'show', 'br-test']);
  t.match(addrs, /10\.88\.0\.1\/24/);
  t.notMatch(addrs, /10\.88\.0\.200/);
});

t.test('bad input gives the spec error JSON with the right code and leaves nothing behind', async (t) => {
  const l = lab(t);
  const c = l.ctr();
  const add = (conf: object | string, netns = c.path): ReturnType<typeof cni> => cni(l.node, 'berth-bridge', { command: 'ADD', netns }, conf);
  t.match(add('{not json').json, { code: 6, msg: /decoding/ });
  t.match(add({ ...l.conf(), cniVersion: '9.9.9' }).json, { code: 1 });
  t.match(add({ ...l.conf(), ipam: undefined }).json, { code: 7, msg: /^ipam:/ });
  t.match(add(l.conf({ mtu: 'big' })).json, { code: 7, msg: /^mtu:/ });
  t.match(add(l.conf({ hairpinMode: 'yes' })).json, { code: 7, msg: /^hairpinMode:/ });
  t.match(add(l.conf({ bridge: 'much-too-long-bridge-name' })).json, { code: 7, msg: /^bridge:/ });
  t.match(add(l.conf({ runtimeConfig: { mac: 'zz' } })).json, { code: 7, msg: /^runtimeConfig\.mac:/ });
  t.match(add(l.conf(), '/run/netns/berth-no-such-netns').json, { code: 4, msg: /CNI_NETNS/ });
  l.node.exec('ip', ['link', 'add', 'dummy-br', 'type', 'veth', 'peer', 'name', 'dummy-pr']);
  t.match(add(l.conf({ bridge: 'dummy-br' })).json, { msg: /dummy-br already exists and is not a bridge/ });
  const vlan = add(l.conf({ vlan: 100 }));
  const kernelHasVlanFiltering = l.node.run('ip', ['link', 'add', 'vlt', 'type', 'bridge', 'vlan_filtering', '1']).status === 0;
  if (kernelHasVlanFiltering) t.equal(vlan.status, 0, vlan.stdout);
  else t.match(vlan.json, { code: 2, msg: /^vlan:/ });
  if (!kernelHasVlanFiltering) {
    t.equal(c.run('ip', ['link', 'show', 'eth0']).status, 1, 'no interface left in the container');
    t.same(l.node.exec('ip', ['-br', 'link']).split('\n').filter((x) => x.startsWith('veth')), [], 'no host veth left');
    t.same(fs.existsSync(path.join(l.dataDir, 'testnet')) ? fs.readdirSync(path.join(l.dataDir, 'testnet')).filter((f) => /^\d/.test(f)) : [], [], 'no address allocated');
  }
});
