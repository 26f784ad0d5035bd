// Configs as Go runtimes write them: containerd's CRI plugin passes runtimeConfig.portMappings with Go's
// field names ({"HostPort":8090,"ContainerPort":80,"Protocol":"tcp","HostIP":""}), which the reference
// portmap (Go, encoding/json) reads case-insensitively. berth-portmap must forward the port exactly as the
// reference does on the same input, and a DEL must remove everything even from a config ADD would refuse.
import t, { Test } from 'tap';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cni, killChild, nodeOutsideLab, NodeOutsideLab, peerServer, tcpAsk } from '../helpers/netns';

// what containerd 1.6 (go-cni's PortMapping, no json tags) puts into runtimeConfig for a hostPort pod
const CRI_MAPPINGS = { portMappings: [{ HostPort: 8090, ContainerPort: 80, Protocol: 'tcp', HostIP: '' }] };

interface Pod { l: NodeOutsideLab; bridge: Record<string, unknown>; added: Record<string, unknown> }

/** A container on berth-bridge + berth-ipam in its own node, with a server on port 80. */
async function pod(t: Test, extra: Record<string, unknown> = {}): Promise<Pod> {
  const l = nodeOutsideLab(t);
  const bridge = { cniVersion: '1.0.0', name: 'gonet', type: 'berth-bridge', bridge: 'br-go', isDefaultGateway: true, hairpinMode: true, ipam: { type: 'berth-ipam', subnet: '10.97.0.0/24', dataDir: l.dataDir }, ...extra };
  const r = cni(l.node, 'berth-bridge', { command: 'ADD', containerId: 'gopod', netns: l.ctr.path }, bridge);
  if (r.status !== 0) throw new Error(`bridge ADD failed: ${r.stdout}`);
  const server = await peerServer(l.ctr, 80, 'ctr');
  t.teardown(() => killChild(server));
  return { l, bridge, added: r.json! };
}

const portmapConf = (type: string, p: Pod, rc: object = CRI_MAPPINGS): object =>
  ({ cniVersion: '1.0.0', name: 'gonet', type, capabilities: { portMappings: true }, runtimeConfig: rc, prevResult: p.added });

t.test('Go-style portMappings: berth-portmap forwards the hostPort as the reference portmap does', async (t) => {
  const seen: Record<string, { added: string; deleted: string }> = {};
  for (const type of ['portmap', 'berth-portmap']) {
    const p = await pod(t);
    const call = { containerId: 'gopod', netns: p.l.ctr.path };
    const add = cni(p.l.node, type, { ...call, command: 'ADD' }, portmapConf(type, p));
    t.equal(add.status, 0, `${type} ADD: ${add.stdout}`);
    const added = tcpAsk(p.l.outside, '192.168.200.1', 8090);
    const del = cni(p.l.node, type, { ...call, command: 'DEL' }, portmapConf(type, p));
    t.equal(del.status, 0, `${type} DEL: ${del.stdout}`);
    seen[type] = { added, deleted: tcpAsk(p.l.outside, '192.168.200.1', 8090, 1000) };
    if (type === 'berth-portmap') {
      t.notMatch(p.l.node.run('nft', ['list', 'table', 'inet', 'berth']).stdout, /jump|dnat/, 'no owner rule left');
    }
  }
  t.same(seen.portmap, { added: '192.168.200.2 ctr', deleted: '' }, 'control: the reference forwards and removes the mapping');
  t.same(seen['berth-portmap'], seen.portmap, 'berth-portmap does the same on the same input');
});

t.test('keys in any case and repeated keys resolve as in Go (the later one wins)', async (t) => {
  const p = await pod(t);
  const rc = { PortMappings: [{ hostport: 9000, CONTAINERPORT: 80, protocol: 'TCP' }, { hostPort: 1, HostPort: 9001, containerPort: 80 }] };
  const call = { containerId: 'gopod', netns: p.l.ctr.path };
  t.equal(cni(p.l.node, 'berth-portmap', { ...call, command: 'ADD' }, portmapConf('berth-portmap', p, rc)).status, 0);
  t.equal(tcpAsk(p.l.outside, '192.168.200.1', 9000), '192.168.200.2 ctr');
  t.equal(tcpAsk(p.l.outside, '192.168.200.1', 9001), '192.168.200.2 ctr', 'HostPort after hostPort: 9001');
  t.equal(cni(p.l.node, 'berth-portmap', { ...call, command: 'DEL' }, portmapConf('berth-portmap', p, rc)).status, 0);
});

t.test('DEL with a config ADD would refuse still removes the rules, the veth and the address', async (t) => {
  // ipMasq and macspoofchk: DEL has masquerade and bridge-family rules to find as well
  const p = await pod(t, { ipMasq: true, macspoofchk: true });
  const call = { containerId: 'gopod', netns: p.l.ctr.path };
  t.equal(cni(p.l.node, 'berth-portmap', { ...call, command: 'ADD' }, portmapConf('berth-portmap', p)).status, 0);
  t.equal(tcpAsk(p.l.outside, '192.168.200.1', 8090), '192.168.200.2 ctr');
  const allocations = (): string[] => fs.readdirSync(path.join(p.l.dataDir, 'gonet')).filter((f) => /^\d/.test(f));
  t.equal(allocations().length, 1, 'one address allocated');

  // Every detail below is one ADD refuses; none names what DEL removes. (The reference portmap's DEL
  // refuses port 0 and the reference bridge's DEL an mtu string: berth removes what it finds instead.)
  const garbledPrev = { cniVersion: '1.0.0', ips: 'not a list', interfaces: 7 };
  const pm = { cniVersion: '1.0.0', name: 'gonet', type: 'berth-portmap', snat: 'perhaps', runtimeConfig: { portMappings: [{ HostPort: 0, ContainerPort: 'eighty', Protocol: 'icmp' }] }, prevResult: garbledPrev };
  const r1 = cni(p.l.node, 'berth-portmap', { ...call, command: 'DEL' }, pm);
  t.equal(r1.status, 0, `portmap DEL: ${r1.stdout}`);
  const br = {
    cniVersion: '1.0.0', name: 'gonet', type: 'berth-bridge', bridge: 'no/such', mtu: 'huge', vlan: 99999, isGateway: 'sure', IPMasq: true, MacSpoofChk: true,
    runtimeConfig: { mac: 'zz' }, prevResult: garbledPrev, ipam: { type: 'berth-ipam', dataDir: p.l.dataDir, subnet: 'garbage', gateway: '300.1.1.1' },
  };
  const r2 = cni(p.l.node, 'berth-bridge', { ...call, command: 'DEL' }, br);
  t.equal(r2.status, 0, `bridge DEL: ${r2.stdout}`);

  t.equal(tcpAsk(p.l.outside, '192.168.200.1', 8090, 1000), '', 'the port is closed');
  t.notMatch(p.l.node.run('nft', ['list', 'ruleset']).stdout, /jump|dnat|masquerade|ether saddr/, 'no owner rule left in any table');
  t.same(p.l.node.exec('ip', ['-br', 'link']).split('\n').filter((x) => x.startsWith('veth')), [], 'no host veth');
  t.equal(p.l.ctr.run('ip', ['link', 'show', 'eth0']).status, 1, 'no container interface');
  t.same(allocations(), [], 'the address is released');
  const again = cni(p.l.node, 'berth-bridge', { ...call, command: 'DEL' }, br);
  t.equal(again.status, 0, 'and DEL again succeeds');
});
