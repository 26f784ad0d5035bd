// Configs read as Go's encoding/json reads them (what the reference plugins accept): keys in any case,
// an exact match first, a later key for one field over an earlier one; through every plugin's parser.
import t from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { canonicalConfig, canonicalKeys, goField, goFold, GoShape, RESULT_SHAPE } from '../../lib/cni/goconf';
import { BRIDGE_SHAPE, parseBridgeConfig } from '../../lib/cni/plugins/bridge-config';
import { parsePortmapConfig, PORTMAP_SHAPE } from '../../lib/cni/plugins/portmap-config';
import { parseVethConfig, VETH_SHAPE } from '../../lib/cni/plugins/veth-config';
import { invokePlugin } from '../../lib/cni/skel';
import { plugin as ipam } from '../../lib/cni/ipam/plugin';
import { parseIpamConfig } from '../../lib/cni/ipam/ipam-config';
import { parseResult } from '../../lib/cni/version';
import type { IPAMConfig, NetConf } from '../../lib/cni/types';

t.test('folding: ASCII case, and the two non-ASCII letters Go folds onto ASCII', async (t) => {
  t.equal(goFold('hostPort'), goFold('HOSTPORT'));
  t.equal(goFold('hostPort'), goFold('hoStpOrt'));
  t.equal(goFold('\u017fnat'), goFold('snat'), 'U+017F long s folds with s (unicode.SimpleFold)');
  t.equal(goFold('\u212aey'), goFold('key'), 'U+212A Kelvin sign folds with k');
  t.not(goFold('\u0131p'), goFold('ip'), 'dotless i does not fold with i in Go, though JS upper-cases it to I');
  t.not(goFold('stra\u00dfe'), goFold('STRASSE'), 'no full case folding');
});

t.test('a key goes to the exactly named field first, else the first field that folds equal', async (t) => {
  const fields = ['mtu', 'MTU', 'name'];
  t.equal(goField(fields, 'MTU'), 'MTU', 'exact match wins over an earlier fold match');
  t.equal(goField(fields, 'mtu'), 'mtu');
  t.equal(goField(fields, 'Mtu'), 'mtu', 'no exact match: the first field in declaration order');
  t.equal(goField(fields, 'NAME'), 'name');
  t.equal(goField(fields, 'nam'), undefined);
  const shape: GoShape = { mtu: true, MTU: true };
  t.same(canonicalKeys({ Mtu: 1, MTU: 2 }, shape), { mtu: 1, MTU: 2 });
});

t.test('containerd CRI port mappings (Go field names) read as the reference portmap reads them', async (t) => {
  const conf = (rc: unknown, more = {}): NetConf => canonicalConfig({ cniVersion: '1.0.0', name: 'k8s', type: 'berth-portmap', runtimeConfig: rc, ...more } as NetConf, PORTMAP_SHAPE);
  const cri = { portMappings: [{ HostPort: 8090, ContainerPort: 80, Protocol: 'tcp', HostIP: '' }] };
  t.same(parsePortmapConfig(conf(cri)).mappings, [{ hostPort: 8090, containerPort: 80, protocol: 'tcp', hostIP: undefined }]);
  t.same(parsePortmapConfig(conf({ PORTMAPPINGS: [{ hostport: 1, CONTAINERPORT: 2, protocol: 'UDP', hostip: '10.0.0.1' }] }, { SNAT: false })),
    { mappings: [{ hostPort: 1, containerPort: 2, protocol: 'udp', hostIP: '10.0.0.1' }], snat: false }, 'any case, snat too');
  t.same(parsePortmapConfig(conf({ portMappings: [{ hostPort: 1, HostPort: 2, containerPort: 3 }] })).mappings[0].hostPort, 2,
    'two keys for one field: the later one, as Go decodes them in order');
  t.same(parsePortmapConfig(conf({ portMappings: [{ HostPort: 2, hostPort: 1, containerPort: 3 }] })).mappings[0].hostPort, 1);
  t.same(parsePortmapConfig(canonicalConfig({ cniVersion: '1.0.0', name: 'k8s', type: 'x', RuntimeConfig: cri } as unknown as NetConf, PORTMAP_SHAPE)).mappings.length, 1,
    'the runtimeConfig key itself in any case');
  t.throws(() => parsePortmapConfig(conf({ portMappings: [{ HostPort: 0, ContainerPort: 80 }] })), { code: 7, message: /^runtimeConfig\.portMappings\[0\]\.hostPort:/ },
    'errors name the canonical field');
});

t.test('bridge and veth keys, runtimeConfig.mac, and what is not a field is kept', async (t) => {
  const raw = { CNIVersion: '1.0.0', Name: 'n', Type: 'berth-bridge', IPAM: { Type: 'berth-ipam' }, Bridge: 'br9', IsDefaultGateway: true, IPMASQ: true, MTU: 1400, HairpinMode: true, EnableDAD: true, RuntimeConfig: { MAC: '02:00:00:00:00:09' }, custom: 1 };
  const c = canonicalConfig(raw as unknown as NetConf, BRIDGE_SHAPE);
  t.match(c, { cniVersion: '1.0.0', name: 'n', type: 'berth-bridge', ipam: { type: 'berth-ipam' }, custom: 1 });
  t.match(parseBridgeConfig(c), { bridge: 'br9', isGateway: true, isDefaultGateway: true, ipMasq: true, mtu: 1400, hairpinMode: true, enableDad: true, mac: '02:00:00:00:00:09', ipamType: 'berth-ipam' });
  t.match(parseVethConfig(canonicalConfig(raw as unknown as NetConf, VETH_SHAPE)), { ipMasq: true, mtu: 1400, mac: '02:00:00:00:00:09' });
  t.same(raw.RuntimeConfig, { MAC: '02:00:00:00:00:09' }, 'the input is not modified');
  t.same(canonicalConfig(c, BRIDGE_SHAPE), c, 'idempotent');
  t.same(canonicalConfig({ DNS: { Nameservers: ['10.0.0.10'], SEARCH: ['svc'] } } as unknown as NetConf).dns, { nameservers: ['10.0.0.10'], search: ['svc'] }, 'dns');
});

t.test('a struct given twice merges its fields, as Go decodes into the value it already has', async (t) => {
  const shape: GoShape = { runtimeConfig: { mac: true, portMappings: [{ hostPort: true }] } };
  const c = canonicalConfig({ runtimeConfig: { mac: '02:00:00:00:00:01' }, RuntimeConfig: { portMappings: [] } } as unknown as NetConf, shape);
  t.same(c.runtimeConfig, { mac: '02:00:00:00:00:01', portMappings: [] });
});

t.test('prevResult from a Go runtime: types100.Result keys in any case', async (t) => {
  const r = parseResult({ CNIVersion: '1.0.0', Interfaces: [{ Name: 'eth0', Sandbox: '/run/netns/x', MAC: '02:00:00:00:00:01' }], IPs: [{ Address: '10.0.0.2/24', Gateway: '10.0.0.1', Interface: 0 }], Routes: [{ Dst: '0.0.0.0/0', GW: '10.0.0.1' }], DNS: { Nameservers: ['1.1.1.1'] } });
  t.same(r, { cniVersion: '1.1.0', interfaces: [{ name: 'eth0', mac: '02:00:00:00:00:01', sandbox: '/run/netns/x' }], ips: [{ address: '10.0.0.2/24', gateway: '10.0.0.1', interface: 0 }], routes: [{ dst: '0.0.0.0/0', gw: '10.0.0.1' }], dns: { nameservers: ['1.1.1.1'] } });
  t.same(canonicalKeys({ ips: [{ ADDRESS: 'a' }] }, RESULT_SHAPE), { ips: [{ address: 'a' }] });
});

t.test('berth-ipam: host-local keys, runtimeConfig.ips and ipRanges, args.cni.ips in any case', async (t) => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-ipam-goconf-'));
  t.teardown(() => fs.rmSync(dataDir, { recursive: true, force: true }));
  const call = async (id: string, conf: object): Promise<Record<string, unknown>> => {
    const out = await invokePlugin(ipam, { CNI_COMMAND: 'ADD', CNI_CONTAINERID: id, CNI_NETNS: '/run/netns/x', CNI_IFNAME: 'eth0', CNI_PATH: '/bin' },
      Buffer.from(JSON.stringify({ CNIVersion: '1.0.0', Name: 'gonet', Type: 'berth-ipam', ...conf })));
    return JSON.parse(out.stdout) as Record<string, unknown>;
  };
  const IPAM = { Type: 'berth-ipam', DataDir: dataDir, Ranges: [[{ Subnet: '10.70.0.0/24', RangeStart: '10.70.0.10', Gateway: '10.70.0.1' }]], Routes: [{ Dst: '0.0.0.0/0' }] };
  t.same(await call('a', { IPAM }), { cniVersion: '1.0.0', ips: [{ address: '10.70.0.10/24', gateway: '10.70.0.1' }], routes: [{ dst: '0.0.0.0/0' }] });
  t.match(await call('b', { IPAM, RuntimeConfig: { IPs: ['10.70.0.50'] } }), { ips: [{ address: '10.70.0.50/24' }] });
  t.match(await call('c', { IPAM, Args: { CNI: { IPS: ['10.70.0.60'] } } }), { ips: [{ address: '10.70.0.60/24' }] });
  t.match(await call('d', { IPAM, RuntimeConfig: { IPRanges: [[{ Subnet: '10.71.0.0/24' }]] } }), { ips: [{ address: '10.71.0.2/24', gateway: '10.71.0.1' }, { address: '10.70.0.11/24' }] },
    'ipRanges go before the configured ranges, as in host-local');
});

t.test('IPAM: a gateway or range bound outside the subnet is refused, naming the field', async (t) => {
  const bad: [Record<string, unknown>, RegExp][] = [
    [{ subnet: '10.80.0.0/24', gateway: '10.81.0.1' }, /^ipam\.gateway: 10\.81\.0\.1 is not a usable address of 10\.80\.0\.0\/24/],
    [{ ranges: [[{ subnet: '10.80.0.0/24', gateway: '10.80.1.1' }]] }, /^ipam\.ranges\[0\]\[0\]\.gateway:/],
    [{ ranges: [[{ subnet: '10.80.0.0/24', gateway: '10.80.0.0' }]] }, /^ipam\.ranges\[0\]\[0\]\.gateway:/],
    [{ ranges: [[{ subnet: '10.80.0.0/24', gateway: '10.80.0.255' }]] }, /^ipam\.ranges\[0\]\[0\]\.gateway:/],
    [{ ranges: [[{ subnet: 'fd00:80::/64', gateway: 'fd00:81::1' }]] }, /^ipam\.ranges\[0\]\[0\]\.gateway:/],
    [{ subnet: '10.80.0.0/24', rangeStart: '10.9.0.1' }, /^ipam\.rangeStart:/],
    [{ subnet: '10.80.0.0/24', rangeEnd: '10.80.1.1' }, /^ipam\.rangeEnd:/],
  ];
  for (const [conf, msg] of bad) t.throws(() => parseIpamConfig({ type: 'berth-ipam', ...conf } as IPAMConfig), { code: 7, message: msg }, JSON.stringify(conf));
  t.throws(() => parseIpamConfig({ type: 'berth-ipam', subnet: '10.80.0.0/24' } as IPAMConfig, [[{ subnet: '10.82.0.0/24', gateway: '10.83.0.1' }]]), { code: 7, message: /^runtimeConfig\.ipRanges\[0\]\[0\]\.gateway:/ });
});
