import t from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { bridgeConfig } from '../../lib/cni/plugins/vxlan';
import type { NodeSettings } from '../../lib/cni/agent/settings';

const PLUGIN = path.resolve(__dirname, '../../../bin/berth-vxlan');
const settings: NodeSettings = { node: 'n1', backend: 'vxlan', network: '10.244.0.0/16', subnet: '10.244.3.0/24', gateway: '10.244.3.1', mtu: 1450, ipamDataDir: '/var/lib/berth/agent/ipam' };

function call(command: string, conf: object): { code: number; out: Record<string, unknown> } {
  const r = spawnSync(PLUGIN, [], {
    input: JSON.stringify(conf), encoding: 'utf8',
    env: { PATH: process.env.PATH, BERTH_NO_AUTOSTART: '1', CNI_COMMAND: command, CNI_CONTAINERID: 'c1', CNI_NETNS: '/run/netns/none', CNI_IFNAME: 'eth0', CNI_PATH: '/nonexistent' },
  });
  return { code: r.status ?? -1, out: r.stdout.trim() ? JSON.parse(r.stdout) as Record<string, unknown> : {} };
}

t.test('the node\'s lease becomes a berth-bridge config: gateway bridge, IPAM over the subnet, overlay MTU', async (t) => {
  const c = bridgeConfig({ cniVersion: '1.1.0', name: 'berth', type: 'berth-vxlan' }, settings);
  t.match(c, { type: 'berth-bridge', bridge: 'berth0', isGateway: true, isDefaultGateway: true, mtu: 1450, ipMasq: false });
  t.same(c.ipam, { type: 'berth-ipam', ranges: [[{ subnet: '10.244.3.0/24', gateway: '10.244.3.1' }]], routes: [], dataDir: '/var/lib/berth/agent/ipam' });
  const noDefault = bridgeConfig({ cniVersion: '1.1.0', name: 'berth', type: 'berth-vxlan', isDefaultGateway: false, bridge: 'ovl0' }, settings);
  t.equal(noDefault.bridge, 'ovl0');
  t.same(noDefault.ipam?.routes, [{ dst: '10.244.0.0/16' }], 'without a default route the cluster network is routed');
  t.throws(() => bridgeConfig({ cniVersion: '1.1.0', name: 'b', type: 'berth-vxlan', ipam: { type: 'host-local' } }, settings), { message: /^ipam: berth-vxlan assigns addresses/ });
  t.throws(() => bridgeConfig({ cniVersion: '1.1.0', name: 'b', type: 'berth-vxlan', bridge: 'a/b' }, settings), { message: /^bridge: "a\/b" is not a valid interface name/ });
});

t.test('without an agent: ADD says try again later, STATUS says not available, DEL still succeeds', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-vxlan-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const conf = { cniVersion: '1.1.0', name: 'berth', type: 'berth-vxlan', subnetFile: path.join(dir, 'subnet.json') };
  const add = call('ADD', conf);
  t.equal(add.code, 1);
  t.equal(add.out.code, 11);
  t.match(add.out.msg, /^subnetFile: cannot read .*subnet\.json \(is berth agent running on this node\?\): ENOENT/);
  const st = call('STATUS', conf);
  t.equal(st.out.code, 50);
  t.equal(call('DEL', conf).code, 0);
  fs.writeFileSync(conf.subnetFile, '{"subnet": 3}');
  const bad = call('ADD', conf);
  t.equal(bad.out.code, 7);
  t.match(bad.out.msg, /^subnetFile: .*missing subnet, mtu or network/);
  const rel = call('ADD', { ...conf, subnetFile: 'relative.json' });
  t.equal(rel.out.code, 7);
  t.match(rel.out.msg, /^subnetFile: "relative.json" must be an absolute path/);
  fs.writeFileSync(conf.subnetFile, JSON.stringify(settings));
  t.equal(call('STATUS', conf).code, 0, 'STATUS passes once the agent wrote the settings');
});
