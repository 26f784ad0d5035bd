// berth-portmap chained after berth-bridge: node ports reach a server in the container from the outside,
// from the node itself (its own address and 127.0.0.1) and from the container itself (hairpin).
import t, { Test } from 'tap';
import { cni, killChild, nodeOutsideLab, peerServer, tcpAsk, TestNetns } from '../helpers/netns';

interface Lab { node: TestNetns; outside: TestNetns; ctr: TestNetns; bridge: Record<string, unknown>; added: Record<string, unknown> }

// node (192.168.200.1) -- outside (192.168.200.2); one container on a bridge in the node. hairpinMode is on:
// with br_netfilter (built into this kernel) a DNATed packet from a container back to itself is bridged
// out of the port it came in on, which the bridge allows only in hairpin mode.
async function lab(t: Test): Promise<Lab> {
  const { node, outside, ctr, dataDir } = nodeOutsideLab(t);
  const bridge = { cniVersion: '1.0.0', name: 'pmnet', type: 'berth-bridge', bridge: 'br-pm', isDefaultGateway: true, hairpinMode: true, ipam: { type: 'host-local', subnet: '10.91.0.0/24', dataDir } };
  const r = cni(node, 'berth-bridge', { command: 'ADD', netns: ctr.path }, bridge);
  if (r.status !== 0) throw new Error(`bridge ADD failed: ${r.stdout}`);
  const server = await peerServer(ctr, 80, 'ctr');
  t.teardown(() => killChild(server));
  return { node, outside, ctr, bridge, added: r.json! };
}

const pmConf = (l: Lab, mappings: object[], extra: object = {}): object => ({
  cniVersion: '1.0.0', name: 'pmnet', type: 'berth-portmap', runtimeConfig: { portMappings: mappings }, prevResult: l.added, ...extra,
});

t.test('a port mapping reaches the container from outside, the node, localhost and the container itself', async (t) => {
  const l = await lab(t);
  const conf = pmConf(l, [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }]);
  const r = cni(l.node, 'berth-portmap', { command: 'ADD', netns: l.ctr.path }, conf);
  t.equal(r.status, 0, r.stdout);
  t.same(r.json, l.added, 'passes prevResult through');
  t.equal(tcpAsk(l.outside, '192.168.200.1', 8080), '192.168.200.2 ctr', 'outside, source kept');
  t.equal(tcpAsk(l.node, '192.168.200.1', 8080), '192.168.200.1 ctr', 'the node to its own address');
  t.equal(tcpAsk(l.node, '127.0.0.1', 8080), '10.91.0.1 ctr', 'the node to localhost, masqueraded');
  t.equal(tcpAsk(l.ctr, '192.168.200.1', 8080), '10.91.0.1 ctr', 'hairpin from the container itself');
  t.equal(tcpAsk(l.outside, '192.168.200.1', 8081), '', 'an unmapped port is not forwarded');

  const chk = cni(l.node, 'berth-portmap', { command: 'CHECK', netns: l.ctr.path }, conf);
  t.equal(chk.status, 0, chk.stdout);
  t.equal(cni(l.node, 'berth-portmap', { command: 'DEL', netns: l.ctr.path }, conf).status, 0);
  t.equal(tcpAsk(l.outside, '192.168.200.1', 8080), '', 'DEL removed the mapping');
  t.equal(cni(l.node, 'berth-portmap', { command: 'DEL', netns: l.ctr.path }, conf).status, 0, 'DEL twice');
  const after = cni(l.node, 'berth-portmap', { command: 'CHECK', netns: l.ctr.path }, conf);
  t.match(after.json, { code: Number, msg: /jump rule/ }, 'CHECK notices the rules are gone');
  const rules = l.node.exec('nft', ['list', 'table', 'inet', 'berth']);
  t.notMatch(rules, /dnat|chain (dnat|snat)-/, 'no owner chain left');
});

t.test('hostIP limits a mapping to one node address; udp mappings work', async (t) => {
  const l = await lab(t);
  l.node.exec('ip', ['addr', 'add', '192.168.200.3/24', 'dev', 'up0']);
  const udp = l.ctr.spawn(process.execPath, ['-e',
    "const s = require('dgram').createSocket('udp4'); s.on('message', (m, r) => s.send('udp ' + r.address, r.port, r.address)); s.bind(53, () => console.log('ready'))"], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(() => killChild(udp));
  await new Promise((r) => udp.stdout!.once('data', r));
  const conf = pmConf(l, [
    { hostPort: 8080, containerPort: 80, protocol: 'tcp', hostIP: '192.168.200.3' },
    { hostPort: 5353, containerPort: 53, protocol: 'udp' },
  ]);
  t.equal(cni(l.node, 'berth-portmap', { command: 'ADD', netns: l.ctr.path }, conf).status, 0);
  t.equal(tcpAsk(l.outside, '192.168.200.3', 8080), '192.168.200.2 ctr');
  t.equal(tcpAsk(l.outside, '192.168.200.1', 8080), '', 'not on another node address');
  const reply = l.outside.run(process.execPath, ['-e',
    "const s = require('dgram').createSocket('udp4'); s.on('message', (m) => { console.log(String(m)); process.exit(0); }); s.send('hi', 5353, '192.168.200.1'); setTimeout(() => process.exit(2), 2000)"]);
  t.equal(reply.stdout.trim(), 'udp 192.168.200.2');
  t.equal(cni(l.node, 'berth-portmap', { command: 'DEL', netns: l.ctr.path }, conf).status, 0);
});

t.test('bad input: missing prevResult, bad protocol, bad port are code 7 naming the field', async (t) => {
  const l = await lab(t);
  const add = (conf: object): ReturnType<typeof cni> => cni(l.node, 'berth-portmap', { command: 'ADD', netns: l.ctr.path }, conf);
  t.match(add({ ...pmConf(l, [{ hostPort: 1, containerPort: 1 }]), prevResult: undefined }).json, { code: 7, msg: /^prevResult:/ });
  t.match(add(pmConf(l, [{ hostPort: 80, containerPort: 80, protocol: 'icmp' }])).json, { code: 7, msg: /^runtimeConfig\.portMappings\[0\]\.protocol:/ });
  t.match(add(pmConf(l, [{ hostPort: 70000, containerPort: 80 }])).json, { code: 7, msg: /^runtimeConfig\.portMappings\[0\]\.hostPort:/ });
  t.match(add(pmConf(l, [{ hostPort: 80, containerPort: 80, hostIP: 'nope' }])).json, { code: 7, msg: /hostIP/ });
  t.notMatch(l.node.run('nft', ['list', 'table', 'inet', 'berth']).stdout, /dnat/, 'nothing installed');
});

t.test('GC removes the mappings of attachments no longer valid and keeps the others', async (t) => {
  const l = await lab(t);
  const conf = pmConf(l, [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }], { cniVersion: '1.1.0' });
  t.equal(cni(l.node, 'berth-portmap', { command: 'ADD', containerId: 'keep', netns: l.ctr.path }, conf).status, 0);
  const other = pmConf(l, [{ hostPort: 9090, containerPort: 80, protocol: 'tcp' }], { cniVersion: '1.1.0' });
  t.equal(cni(l.node, 'berth-portmap', { command: 'ADD', containerId: 'gone', netns: l.ctr.path }, other).status, 0);
  t.equal(tcpAsk(l.outside, '192.168.200.1', 9090), '192.168.200.2 ctr');
  const gc = cni(l.node, 'berth-portmap', { command: 'GC' }, { cniVersion: '1.1.0', name: 'pmnet', type: 'berth-portmap', 'cni.dev/valid-attachments': [{ containerID: 'keep', ifname: 'eth0' }] });
  t.equal(gc.status, 0, gc.stdout);
  t.equal(tcpAsk(l.outside, '192.168.200.1', 9090), '', 'the lost attachment no longer forwards');
  t.equal(tcpAsk(l.outside, '192.168.200.1', 8080), '192.168.200.2 ctr', 'the valid one still does');
});

t.test('IPv6: a mapping reaches a dual-stack container through the node IPv6 address', async (t) => {
  const { node, outside, ctr, dataDir } = nodeOutsideLab(t, 6);
  const bridge = {
    cniVersion: '1.1.0', name: 'pm6', type: 'berth-bridge', bridge: 'br-pm6', isDefaultGateway: true,
    ipam: { type: 'berth-ipam', ranges: [[{ subnet: '10.99.0.0/24' }], [{ subnet: 'fd00:99::/64' }]], dataDir },
  };
  const r = cni(node, 'berth-bridge', { command: 'ADD', netns: ctr.path }, bridge);
  t.equal(r.status, 0, r.stdout);
  const server = await peerServer(ctr, 80, 'ctr');
  t.teardown(() => killChild(server));
  const conf = { cniVersion: '1.1.0', name: 'pm6', type: 'berth-portmap', runtimeConfig: { portMappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }] }, prevResult: r.json };
  t.equal(cni(node, 'berth-portmap', { command: 'ADD', netns: ctr.path }, conf).status, 0);
  // the first contact over fresh IPv6 links takes about 2 s here (neighbour discovery), hence the patience
  t.equal(tcpAsk(outside, 'fd00:200::1', 8080, 6000), 'fd00:200::2 ctr');
  t.equal(cni(node, 'berth-portmap', { command: 'DEL', netns: ctr.path }, conf).status, 0);
  t.equal(tcpAsk(outside, 'fd00:200::1', 8080), '');
});
