// Chaining with the reference plugins (Debian containernetworking-plugins), run as a conflist by hand:
// each plugin gets the previous one's result as prevResult, DEL runs in reverse.
import t, { Test } from 'tap';
import { cni, cniChainAdd, cniChainDel, killChild, nodeOutsideLab, NodeOutsideLab, peerServer, tcpAsk } from '../helpers/netns';

const lab = (t: Test): NodeOutsideLab => nodeOutsideLab(t);

const mapping = { portMappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }] };

t.test('berth-bridge followed by the reference tuning, portmap, bandwidth and firewall plugins', async (t) => {
  const l = lab(t);
  const list = {
    cniVersion: '1.0.0', name: 'chainnet',
    plugins: [
      { type: 'berth-bridge', bridge: 'br-chain', isDefaultGateway: true, ipMasq: true, ipam: { type: 'host-local', subnet: '10.93.0.0/24', dataDir: l.dataDir } },
      { type: 'tuning', sysctl: { 'net.ipv4.conf.eth0.send_redirects': '0' } },
      { type: 'portmap', capabilities: { portMappings: true }, runtimeConfig: mapping },
      { type: 'bandwidth', ingressRate: 8000000, ingressBurst: 80000, egressRate: 8000000, egressBurst: 80000 },
      { type: 'firewall', backend: 'iptables' },
    ],
  };
  const call = { containerId: 'chain1', netns: l.ctr.path };
  const r = cniChainAdd(l.node, list, call);
  t.equal(r.status, 0, r.stdout + r.stderr);
  t.teardown(() => { cniChainDel(l.node, list, call, r.json); });
  t.match(r.json, { ips: [{ address: /^10\.93\.0\.\d+\/24$/ }] }, 'the chain carried our result to the end');
  t.equal(l.ctr.exec('cat', ['/proc/sys/net/ipv4/conf/eth0/send_redirects']).trim(), '0', 'tuning applied');
  const server = await peerServer(l.ctr, 80, 'ctr');
  t.teardown(() => killChild(server));
  t.equal(tcpAsk(l.outside, '192.168.200.1', 8080), '192.168.200.2 ctr', 'reference portmap forwards to our container');
  // the Debian reference portmap's own CHECK fails even after the reference bridge ("could not check ipv6
  // dnat: chain ... not found" on an IPv4-only result), so it is left out here
  for (const p of list.plugins.filter((x) => x.type !== 'portmap')) {
    const chk = cni(l.node, String(p.type), { ...call, command: 'CHECK' }, { cniVersion: list.cniVersion, name: list.name, ...p, prevResult: r.json });
    t.equal(chk.status, 0, `CHECK ${String(p.type)}: ${chk.stdout}`);
  }
  t.equal(cniChainDel(l.node, list, call, r.json), undefined, 'DEL of the whole chain succeeds');
  t.equal(cniChainDel(l.node, list, call, r.json), undefined, 'and again');
  t.same(l.node.exec('ip', ['-br', 'link']).split('\n').filter((x) => x.startsWith('veth')), []);
});

t.test('the reference bridge with host-local, followed by berth-portmap', async (t) => {
  const l = lab(t);
  const list = {
    cniVersion: '1.0.0', name: 'refnet',
    plugins: [
      { type: 'bridge', bridge: 'br-ref', isDefaultGateway: true, hairpinMode: true, ipam: { type: 'host-local', subnet: '10.94.0.0/24', dataDir: l.dataDir } },
      { type: 'berth-portmap', runtimeConfig: mapping },
    ],
  };
  const call = { containerId: 'ref1', netns: l.ctr.path };
  const r = cniChainAdd(l.node, list, call);
  t.equal(r.status, 0, r.stdout + r.stderr);
  t.teardown(() => { cniChainDel(l.node, list, call, r.json); });
  const server = await peerServer(l.ctr, 80, 'ctr');
  t.teardown(() => killChild(server));
  t.equal(tcpAsk(l.outside, '192.168.200.1', 8080), '192.168.200.2 ctr', 'outside reaches the container');
  t.equal(tcpAsk(l.ctr, '192.168.200.1', 8080), '10.94.0.1 ctr', 'hairpin');
  t.equal(tcpAsk(l.node, '127.0.0.1', 8080), '10.94.0.1 ctr', 'localhost');
  const chk = cni(l.node, 'berth-portmap', { ...call, command: 'CHECK' }, { cniVersion: '1.0.0', name: 'refnet', ...list.plugins[1], prevResult: r.json });
  t.equal(chk.status, 0, chk.stdout);
  t.equal(cniChainDel(l.node, list, call, r.json), undefined);
  t.equal(tcpAsk(l.outside, '192.168.200.1', 8080), '', 'mapping gone after DEL');
});
