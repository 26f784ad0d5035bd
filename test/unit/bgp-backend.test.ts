// The BGP backend's pure parts: its flags (defaults, errors naming the flag), the neighbour plan from the
// store's leases (mesh follows the leases; external peers get explicit policies, RFC 8212), and the
// birdc-like output of `berth bgp peers|routes`.
import t from 'tap';
import { parseAgentConfig } from '../../lib/cni/agent/agent-config';
import { selectionDeferralOf } from '../../lib/cni/agent/backends/bgp/config';
import { planPeers, externalImport, externalExport } from '../../lib/cni/agent/backends/bgp/plan';
import { evaluatePolicy } from '../../lib/cni/bgp/policy';
import { formatPeers, formatRoutes, formatSelection } from '../../lib/cni/agent/bgp-command';
import type { Lease } from '../../lib/cni/agent/store/types';
import type { Route } from '../../lib/cni/bgp/route';
import type { PeerStatus, RouteStatus } from '../../lib/cni/bgp/status';

const lease = (node: string, i: number, backend: 'bgp' | 'vxlan' = 'bgp'): Lease =>
  ({ node, publicIp: `10.250.0.${i}`, vtepMac: '', backend, subnet: `10.244.${i}.0/24`, expiresAt: 0 });

const route = (prefix: string): Route => ({
  prefix, afi: 1, attrs: { origin: 0, asPath: [] },
  source: { id: 'x', address: '10.0.0.1', asn: 65000, routerId: '10.0.0.1', internal: false, rrClient: false, local: false },
});

t.test('--backend bgp is accepted with defaults: AS 64512, hold 90 s, restart 120 s, mesh on, port 179', async (t) => {
  const c = parseAgentConfig(['--node', 'n1', '--backend', 'bgp']);
  t.equal(c.backend, 'bgp');
  t.same(c.bgp, { asn: 64512, holdTime: 90, grTime: 120, mesh: true, peers: [], importPrefixes: [], port: 179 });
  t.equal(parseAgentConfig(['--node', 'n1']).bgp, undefined, 'no bgp section for vxlan');
});

t.test('bgp flags are read; repeated and comma-separated peers and imports add up', async (t) => {
  const c = parseAgentConfig(['--node', 'n1', '--backend', 'bgp', '--bgp-asn', '4200000000', '--bgp-hold-time', '9', '--bgp-gr-time', '30', '--bgp-no-mesh',
    '--bgp-peer', '10.250.0.250@64512', '--bgp-peer', '10.250.0.251@65000,fd00::1@65001', '--bgp-import', '10.99.0.0/16,fd00:99::/48', '--bgp-port', '1179']);
  t.same(c.bgp, {
    asn: 4200000000, holdTime: 9, grTime: 30, mesh: false, port: 1179, importPrefixes: ['10.99.0.0/16', 'fd00:99::/48'],
    peers: [{ address: '10.250.0.250', asn: 64512 }, { address: '10.250.0.251', asn: 65000 }, { address: 'fd00::1', asn: 65001 }],
  });
});

t.test('--bgp-selection-deferral: read when given, else half the restart time', async (t) => {
  const given = parseAgentConfig(['--node', 'n1', '--backend', 'bgp', '--bgp-selection-deferral', '45']).bgp!;
  t.equal(given.selectionDeferral, 45);
  t.equal(selectionDeferralOf(given), 45);
  const dflt = parseAgentConfig(['--node', 'n1', '--backend', 'bgp', '--bgp-gr-time', '30']).bgp!;
  t.notOk('selectionDeferral' in dflt, 'unset: absent');
  t.equal(selectionDeferralOf(dflt), 15, 'half of --bgp-gr-time');
  t.equal(selectionDeferralOf({ grTime: 1 }), 1, 'never 0');
});

t.test('bad bgp input names the flag', async (t) => {
  const bad: [string[], RegExp][] = [
    [['--bgp-asn', '0'], /--bgp-asn/],
    [['--bgp-asn', 'x'], /--bgp-asn/],
    [['--bgp-hold-time', '2'], /--bgp-hold-time.*RFC 4271/],
    [['--bgp-gr-time', '5000'], /--bgp-gr-time/],
    [['--bgp-selection-deferral', '0'], /--bgp-selection-deferral.*integer/],
    [['--bgp-gr-time', '60', '--bgp-selection-deferral', '60'], /--bgp-selection-deferral: must be shorter than --bgp-gr-time \(60 s\)/],
    [['--bgp-peer', '10.0.0.1'], /--bgp-peer.*ADDRESS@ASN/],
    [['--bgp-peer', 'host@65000'], /--bgp-peer/],
    [['--bgp-peer', '10.0.0.1@0'], /--bgp-peer.*AS number/],
    [['--bgp-import', '10.99.0.0'], /--bgp-import/],
    [['--bgp-import', '10.99.0.0/33'], /--bgp-import/],
    [['--bgp-max-prefixes', '0'], /--bgp-max-prefixes.*integer/],
    [['--bgp-peer', '10.0.0.1@64512', '--bgp-max-prefixes', '10.0.0.1=5'], /--bgp-max-prefixes.*not an external/],
    [['--bgp-max-prefix-restart', '5'], /--bgp-max-prefix-restart: needs --bgp-max-prefixes/],
    [['--bgp-peer', '10.0.0.1@65000', '--bgp-rr-client', '10.0.0.1'], /--bgp-rr-client.*not an iBGP/],
    [['--bgp-route-reflector', '--bgp-cluster-id', '1.2.3'], /--bgp-cluster-id.*IPv4/],
    [['--bgp-cluster-id', '1.2.3.4'], /--bgp-cluster-id: needs --bgp-route-reflector/],
    [['--bgp-route-reflector', '--bgp-no-mesh'], /--bgp-route-reflector/],
    [['--bgp-export-community', '70000:1'], /--bgp-export-community: invalid community "70000:1"/],
    [['--bgp-import-reject-community', 'no'], /--bgp-import-reject-community: invalid community/],
    [['--bgp-import-accept-community', '1:2', '--bgp-import-reject-community', '1:2'], /--bgp-import-accept-community.*also/],
  ];
  for (const [args, re] of bad) {
    try { parseAgentConfig(['--node', 'n1', '--backend', 'bgp', ...args]); t.fail('accepted'); } catch (e) { t.match(`${(e as { field?: string }).field}: ${(e as Error).message}`, re, args.join(' ')); }
  }
  t.throws(() => parseAgentConfig(['--backend', 'ospf']), /unknown backend "ospf" \(want vxlan, bgp or host-gw\)/);
});

t.test('the mesh: every other bgp lease, not ourselves, not vxlan nodes; follows the leases', async (t) => {
  const c = parseAgentConfig(['--node', 'n1', '--backend', 'bgp', '--bgp-hold-time', '9']).bgp!;
  const own = lease('n1', 1);
  const all = [own, lease('n2', 2), lease('n3', 3), lease('v4', 4, 'vxlan')];
  const plan = planPeers(own, all, c);
  t.same(plan.map((p) => [p.node, p.config.address, p.config.asn, p.config.localAddress, p.config.holdTime]), [['n2', '10.250.0.2', 64512, '10.250.0.1', 9], ['n3', '10.250.0.3', 64512, '10.250.0.1', 9]]);
  t.equal(plan[0].config.importPolicy, undefined, 'iBGP: the speaker\'s defaults');
  t.same(planPeers(own, [own, lease('n3', 3)], c).map((p) => p.node), ['n3'], 'n2 gone with its lease');
});

t.test('external peers: RR without mesh, eBGP with explicit import and export policies', async (t) => {
  const c = parseAgentConfig(['--node', 'n1', '--backend', 'bgp', '--bgp-no-mesh', '--bgp-peer', '10.250.0.250@64512', '--bgp-peer', '10.250.0.251@65000', '--bgp-import', '10.99.0.0/16']).bgp!;
  const own = lease('n1', 1);
  const plan = planPeers(own, [own, lease('n2', 2)], c);
  t.same(plan.map((p) => p.config.address), ['10.250.0.250', '10.250.0.251'], 'no mesh peers');
  t.equal(plan[0].config.exportPolicy, undefined, 'iBGP reflector: default export');
  const ebgp = plan[1].config;
  t.ok(evaluatePolicy(ebgp.importPolicy!, route('10.99.1.0/24')), 'imports a listed prefix');
  t.notOk(evaluatePolicy(ebgp.importPolicy!, route('10.98.0.0/24')), 'rejects the rest');
  t.ok(evaluatePolicy(ebgp.exportPolicy!, route('10.244.1.0/24')), 'exports our block');
  t.notOk(evaluatePolicy(ebgp.exportPolicy!, route('10.244.2.0/24')), 'not other nodes\' blocks');
  t.notOk(evaluatePolicy(externalImport([]), route('10.99.1.0/24')), 'no --bgp-import: nothing (RFC 8212)');
  t.notOk(evaluatePolicy(externalExport(['10.244.1.0/24']), route('10.244.1.0/25')), 'exact block only');
});

t.test('max-prefix, N bit and route reflection reach the peer configs', async (t) => {
  const base = ['--node', 'n1', '--backend', 'bgp', '--bgp-peer', '10.250.0.251@65000', '--bgp-peer', '10.250.0.252@65001', '--bgp-peer', '10.250.0.9@64512'];
  const own = lease('n1', 1);
  const c = parseAgentConfig([...base, '--bgp-max-prefixes', '100', '--bgp-max-prefixes', '10.250.0.252=7', '--bgp-max-prefix-restart', '30',
    '--bgp-notification-restart', '--bgp-route-reflector', '--bgp-rr-client', '10.250.0.9', '--bgp-cluster-id', '10.0.0.1']).bgp!;
  t.equal(c.notificationRestart, true);
  t.equal(c.clusterId, '10.0.0.1');
  const by = (a: string) => planPeers(own, [own, lease('n2', 2)], c).find((p) => p.config.address === a)!.config;
  t.same([by('10.250.0.251').maxPrefixes, by('10.250.0.251').maxPrefixRestartTime], [100, 30], 'every external peer');
  t.equal(by('10.250.0.252').maxPrefixes, 7, 'one peer\'s own limit wins');
  t.equal(by('10.250.0.9').maxPrefixes, undefined, 'no limit on iBGP peers');
  t.equal(by('10.250.0.9').rrClient, true, '--bgp-rr-client');
  t.equal(by('10.250.0.2').rrClient, true, '--bgp-route-reflector: mesh nodes are clients');
  const plain = parseAgentConfig(base).bgp!;
  t.notOk('maxPrefixes' in plain || 'notificationRestart' in plain || 'clusterId' in plain || 'routeReflector' in plain, 'unset: absent');
  t.notOk(planPeers(own, [own, lease('n2', 2)], plain).some((p) => 'rrClient' in p.config || 'maxPrefixes' in p.config), 'peer configs unchanged');
});

t.test('communities: set on export to external peers, matched on import from them', async (t) => {
  const c = parseAgentConfig(['--node', 'n1', '--backend', 'bgp', '--bgp-peer', '10.250.0.251@65000', '--bgp-import', '10.99.0.0/16',
    '--bgp-export-community', '64512:100,64512:200', '--bgp-import-accept-community', '65000:1', '--bgp-import-reject-community', '65000:666']).bgp!;
  const own = lease('n1', 1);
  const ebgp = planPeers(own, [own], c)[0].config;
  const tagged = (prefix: string, ...cs: number[]): Route => ({ ...route(prefix), attrs: { origin: 0, asPath: [], communities: cs } });
  t.same(evaluatePolicy(ebgp.exportPolicy!, route('10.244.1.0/24'))?.attrs.communities, [64512 * 65536 + 100, 64512 * 65536 + 200], 'exported with both');
  t.notOk(evaluatePolicy(ebgp.exportPolicy!, route('10.244.2.0/24')), 'still only our block');
  t.ok(evaluatePolicy(ebgp.importPolicy!, tagged('10.50.0.0/24', 65000 * 65536 + 1)), 'accepted community: any prefix');
  t.notOk(evaluatePolicy(ebgp.importPolicy!, tagged('10.99.1.0/24', 65000 * 65536 + 666)), 'rejected community wins over --bgp-import');
  t.notOk(evaluatePolicy(ebgp.importPolicy!, tagged('10.50.0.0/24', 65000 * 65536 + 666, 65000 * 65536 + 1)), 'and over an accepted one');
  t.ok(evaluatePolicy(ebgp.importPolicy!, tagged('10.99.1.0/24', 65000 * 65536 + 2)), 'other communities: prefix list decides');
  t.notOk(evaluatePolicy(ebgp.importPolicy!, tagged('10.50.0.0/24', 65000 * 65536 + 2)), 'neither: rejected');
});

t.test('eBGP peers get every family the node has: IPv6 negotiated and the IPv6 block exported', async (t) => {
  const c = parseAgentConfig(['--node', 'n1', '--backend', 'bgp', '--network6', 'fd00:244::/48', '--bgp-peer', '10.250.0.251@65000']).bgp!;
  const own = lease('n1', 1);
  const ebgp = planPeers(own, [own], c, 'fd00:b0::1', 'fd00:244::40/122').find((p) => p.config.asn === 65000)!.config;
  t.same(ebgp.families, ['ipv4', 'ipv6']);
  t.equal(ebgp.nextHop6, 'fd00:b0::1');
  t.ok(evaluatePolicy(ebgp.exportPolicy!, route('fd00:244::40/122')), 'exports our IPv6 block');
  t.ok(evaluatePolicy(ebgp.exportPolicy!, route('10.244.1.0/24')), 'and our IPv4 block');
  t.notOk(evaluatePolicy(ebgp.exportPolicy!, route('fd00:244::80/122')), 'not other nodes\' IPv6 blocks');
  const v4only = planPeers(own, [own], parseAgentConfig(['--node', 'n1', '--backend', 'bgp', '--bgp-peer', '10.250.0.251@65000']).bgp!)[0].config;
  t.same(v4only.families, ['ipv4'], 'no IPv6 range: IPv4 only');
});

t.test('peers and routes print like birdc', async (t) => {
  const p: PeerStatus = { address: '10.250.0.2', asn: 64512, description: 'node n2', state: 'Established', since: '2026-01-01T10:11:12.000Z', families: ['ipv4'], received: 2, accepted: 1, advertised: 1, updatesIn: 3, updatesOut: 2, gracefulRestart: false };
  t.match(formatPeers([p, { ...p, address: '10.250.0.3', state: 'Active', lastError: 'connection closed' }]),
    /^Name\s+Proto\s+State\s+Since\s+Info\n10\.250\.0\.2\s+BGP\s+up\s+10:11:12\s+Established  AS64512  node n2  1\/2 imported, 1 exported\n10\.250\.0\.3\s+BGP\s+start\s+10:11:12\s+Active  AS64512  node n2  connection closed\n$/);
  t.match(formatPeers([{ ...p, awaitingEndOfRib: ['ipv4', 'ipv6'] }]), /Established .* awaiting End-of-RIB \(ipv4, ipv6\)\n$/, 'a peer our deferred selection waits for');
  t.equal(formatSelection([{ family: 'ipv4', waitingFor: ['10.250.0.251'], secondsLeft: 12 }]), 'Route selection deferred (RFC 4724) for ipv4: End-of-RIB awaited from 10.250.0.251, at most 12 s more\n');
  t.equal(formatSelection([]), '', 'nothing deferred: no line');
  const r: RouteStatus = { prefix: '10.99.1.0/24', nextHop: '10.250.0.251', from: '10.250.0.251', asPath: '65000', origin: 'IGP', localPref: 100, communities: [], best: true, stale: false };
  t.equal(formatRoutes([r, { ...r, from: '10.250.0.9', best: false, stale: true }]),
    '10.99.1.0/24         unicast [10.250.0.251] * (100) [AS65000i]\n\tvia 10.250.0.251\n                     unicast [10.250.0.9] stale (100) [AS65000i]\n\tvia 10.250.0.251\n');
});
