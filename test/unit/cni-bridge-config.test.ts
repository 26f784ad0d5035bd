// Config parsing of berth-bridge, berth-veth and berth-portmap: defaults, and code-7 errors naming the field.
import t from 'tap';
import { parseBridgeConfig } from '../../lib/cni/plugins/bridge-config';
import { parseVethConfig } from '../../lib/cni/plugins/veth-config';
import { parsePortmapConfig } from '../../lib/cni/plugins/portmap-config';
import type { NetConf } from '../../lib/cni/types';

const base = (over: Record<string, unknown> = {}): NetConf => ({ cniVersion: '1.1.0', name: 'n', type: 'berth-bridge', ipam: { type: 'berth-ipam' }, ...over });

t.test('bridge defaults follow the reference plugin; isDefaultGateway implies isGateway', async (t) => {
  t.match(parseBridgeConfig(base()), { bridge: 'cni0', isGateway: false, ipMasq: false, hairpinMode: false, vlan: undefined, ipamType: 'berth-ipam' });
  t.match(parseBridgeConfig(base({ isDefaultGateway: true })), { isGateway: true, isDefaultGateway: true });
  t.equal(parseBridgeConfig(base({ vlan: 0 })).vlan, undefined, 'vlan 0 means none');
  t.equal(parseBridgeConfig(base({ runtimeConfig: { mac: '02:AA:00:00:00:01' } })).mac, '02:aa:00:00:00:01');
});

t.test('bridge config errors are code 7 and name the field', async (t) => {
  const bad: [Record<string, unknown>, RegExp][] = [
    [{ ipam: undefined }, /^ipam:/], [{ ipam: { type: 5 } }, /^ipam\.type:/], [{ mtu: 10 }, /^mtu:/], [{ vlan: 5000 }, /^vlan:/],
    [{ bridge: 'a/b' }, /^bridge:/], [{ ipMasq: 'true' }, /^ipMasq:/], [{ runtimeConfig: { mac: '01:00:00:00:00:01' } }, /^runtimeConfig\.mac: .*multicast/],
  ];
  for (const [over, msg] of bad) t.throws(() => parseBridgeConfig(base(over)), { code: 7, message: msg }, JSON.stringify(over));
});

t.test('veth config', async (t) => {
  t.match(parseVethConfig(base({ ipMasq: true, mtu: 1450 })), { ipMasq: true, mtu: 1450 });
  t.throws(() => parseVethConfig(base({ mtu: 1.5 })), { code: 7, message: /^mtu:/ });
});

t.test('portmap config: defaults, lower-case protocols, errors naming the mapping', async (t) => {
  t.same(parsePortmapConfig(base()), { mappings: [], snat: true });
  t.same(parsePortmapConfig(base({ snat: false, runtimeConfig: { portMappings: [{ hostPort: 80, containerPort: 8080, protocol: 'UDP', hostIP: '' }] } })),
    { mappings: [{ hostPort: 80, containerPort: 8080, protocol: 'udp', hostIP: undefined }], snat: false });
  t.throws(() => parsePortmapConfig(base({ runtimeConfig: { portMappings: {} } })), { code: 7, message: /^runtimeConfig\.portMappings:/ });
  t.throws(() => parsePortmapConfig(base({ runtimeConfig: { portMappings: [{ hostPort: 0, containerPort: 1 }] } })), { code: 7, message: /\[0\]\.hostPort/ });
  t.throws(() => parsePortmapConfig(base({ runtimeConfig: { portMappings: [{ hostPort: 1, containerPort: 1, hostIP: '1.2.3' }] } })), { code: 7, message: /\[0\]\.hostIP/ });
});
