// berth-bridge with berth-ipam (delegated in-process) at CNI 1.1.0: dual-stack addresses, and GC removing
// the masquerade rules and addresses of attachments the runtime no longer lists.
import t from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { cni, createNetns, ping } from '../helpers/netns';

t.test('dual-stack containers on one bridge reach each other over IPv4 and IPv6', async (t) => {
  const node = createNetns('node');
  const a = createNetns('ctr'), b = createNetns('ctr');
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-ipam-'));
  t.teardown(() => { a.remove(); b.remove(); node.remove(); fs.rmSync(dataDir, { recursive: true, force: true }); });
  const conf = {
    cniVersion: '1.1.0', name: 'dual', type: 'berth-bridge', bridge: 'br-dual', isDefaultGateway: true,
    ipam: { type: 'berth-ipam', ranges: [[{ subnet: '10.96.0.0/24' }], [{ subnet: 'fd00:96::/64' }]], dataDir },
  };
  const ra = cni(node, 'berth-bridge', { command: 'ADD', containerId: 'a', netns: a.path }, conf);
  const rb = cni(node, 'berth-bridge', { command: 'ADD', containerId: 'b', netns: b.path }, conf);
  t.equal(ra.status, 0, ra.stdout);
  t.equal(rb.status, 0, rb.stdout);
  t.match(ra.json, { cniVersion: '1.1.0', ips: [{ address: /^10\.96\.0\.\d+\/24$/, gateway: '10.96.0.1' }, { address: /^fd00:96::[0-9a-f]+\/64$/, gateway: 'fd00:96::1' }] });
  const [b4, b6] = (rb.json?.ips as { address: string }[]).map((i) => i.address.split('/')[0]);
  t.ok(ping(a, b4), 'IPv4');
  t.ok(a.run('busybox', ['ping', '-6', '-c', '1', '-W', '2', b6]).status === 0, 'IPv6');
  t.ok(a.run('busybox', ['ping', '-6', '-c', '1', '-W', '2', 'fd00:96::1']).status === 0, 'IPv6 gateway on the bridge');
  t.match(a.exec('ip', ['-6', 'route']), /default via fd00:96::1 dev eth0/);
});

t.test('GC keeps valid attachments and removes the rest', async (t) => {
  const node = createNetns('node');
  const a = createNetns('ctr'), b = createNetns('ctr');
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-ipam-'));
  t.teardown(() => { a.remove(); b.remove(); node.remove(); fs.rmSync(dataDir, { recursive: true, force: true }); });
  const conf = {
    cniVersion: '1.1.0', name: 'gcnet', type: 'berth-bridge', bridge: 'br-gc', isDefaultGateway: true, ipMasq: true,
    ipam: { type: 'berth-ipam', ranges: [[{ subnet: '10.97.0.0/24' }]], dataDir },
  };
  t.equal(cni(node, 'berth-bridge', { command: 'ADD', containerId: 'keep', netns: a.path }, conf).status, 0);
  t.equal(cni(node, 'berth-bridge', { command: 'ADD', containerId: 'lost', netns: b.path }, conf).status, 0);
  const gc = cni(node, 'berth-bridge', { command: 'GC' }, { ...conf, 'cni.dev/valid-attachments': [{ containerID: 'keep', ifname: 'eth0' }] });
  t.equal(gc.status, 0, gc.stdout);
  const rules = node.exec('nft', ['list', 'table', 'inet', 'berth']);
  t.match(rules, /berth masq gcnet keep eth0/);
  t.notMatch(rules, /berth masq gcnet lost eth0/);
  // berth-ipam's store names owners by container ID: after GC only "keep" may appear in it
  const stored = (dir: string): string => fs.readdirSync(dir, { withFileTypes: true })
    .map((e) => (e.isDirectory() ? stored(path.join(dir, e.name)) : `${e.name} ${fs.readFileSync(path.join(dir, e.name), 'utf8')}`)).join('\n');
  t.match(stored(dataDir), /keep/);
  t.notMatch(stored(dataDir), /lost/, 'IPAM released the lost attachment');
});
