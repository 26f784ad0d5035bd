// The encapsulation modes' config (one-line errors naming the flag) and their pure decisions: which nodes
// are on our underlay subnet, and what changes the direct routes of host-gw and DirectRouting need.
import t from 'tap';
import { parseAgentConfig } from '../../lib/cni/agent/agent-config';
import { onSubnet, underlaySubnet } from '../../lib/cni/agent/backends/underlay';
import { planDirect } from '../../lib/cni/agent/backends/direct-routes';

t.test('encapsulation flags are read into the config', async (t) => {
  t.same(parseAgentConfig(['--backend', 'bgp', '--bgp-ipip', 'always']).bgp?.encap, { kind: 'ipip', mode: 'always' });
  t.same(parseAgentConfig(['--backend', 'bgp', '--bgp-ipip', 'cross-subnet']).bgp?.encap, { kind: 'ipip', mode: 'cross-subnet' });
  t.same(parseAgentConfig(['--backend', 'bgp', '--bgp-vxlan', 'cross-subnet', '--bgp-ipip', 'never']).bgp?.encap, { kind: 'vxlan', mode: 'cross-subnet' });
  t.equal(parseAgentConfig(['--backend', 'bgp']).bgp?.encap, undefined, 'no encapsulation by default: plain BGP routes');
  t.equal(parseAgentConfig(['--backend', 'host-gw']).backend, 'host-gw');
  t.equal(parseAgentConfig(['--vxlan-direct-routing']).directRouting, true);
  t.equal(parseAgentConfig([]).directRouting, undefined);
});

t.test('bad encapsulation input names the flag in one line', async (t) => {
  const bad: [string[], RegExp][] = [
    [['--backend', 'bgp', '--bgp-ipip', 'sometimes'], /^--bgp-ipip: invalid mode "sometimes" \(want never, always or cross-subnet\)$/],
    [['--backend', 'bgp', '--bgp-vxlan', 'CrossSubnet'], /^--bgp-vxlan: invalid mode "CrossSubnet"/],
    [['--backend', 'bgp', '--bgp-ipip', 'always', '--bgp-vxlan', 'cross-subnet'], /^--bgp-vxlan: one encapsulation at a time/],
    [['--bgp-ipip', 'always'], /^--bgp-ipip: needs --backend bgp$/],
    [['--backend', 'host-gw', '--bgp-vxlan', 'always'], /^--bgp-vxlan: needs --backend bgp$/],
    [['--backend', 'bgp', '--vxlan-direct-routing'], /^--vxlan-direct-routing: needs --backend vxlan$/],
    [['--backend', 'host-gw', '--vxlan-direct-routing'], /^--vxlan-direct-routing: needs --backend vxlan$/],
    [['--backend', 'hostgw'], /^--backend: unknown backend "hostgw" \(want vxlan, bgp or host-gw\)$/],
  ];
  for (const [args, re] of bad) t.throws(() => parseAgentConfig(args), { message: re }, args.join(' '));
});

t.test('same underlay subnet: the peer is inside our address\'s prefix', async (t) => {
  const u = { ip: '10.250.0.1', prefix: 24 };
  t.ok(onSubnet(u, '10.250.0.200'));
  t.notOk(onSubnet(u, '10.251.0.3'));
  t.notOk(onSubnet(u, '10.250.1.1'));
  t.ok(onSubnet({ ip: '10.250.0.1', prefix: 16 }, '10.250.1.1'), 'a /16 underlay holds 10.250.1.1');
  t.notOk(onSubnet({ ip: '192.0.2.7', prefix: 32 }, '192.0.2.8'), '--public-ip off the interface: nobody is on our subnet');
  t.equal(underlaySubnet(u), '10.250.0.0/24');
});

t.test('direct routes: missing and wrong ones set, stale ones removed, right ones left alone', async (t) => {
  const want = [{ dst: '10.244.1.0/24', gw: '10.250.0.2' }, { dst: '10.244.2.0/24', gw: '10.250.0.3' }, { dst: '10.244.4.0/24', gw: '10.250.0.5' }];
  const have = [
    { dst: '10.244.1.0/24', gw: '10.250.0.2', dev: 2 }, // right
    { dst: '10.244.2.0/24', gw: '10.250.0.9', dev: 2 }, // node moved
    { dst: '10.244.3.0/24', gw: '10.250.0.4', dev: 2 }, // node gone
    { dst: '10.244.4.0/24', gw: '10.250.0.5', dev: 7 }, // wrong device
  ];
  t.same(planDirect(want, have, 2), [
    { kind: 'del', dst: '10.244.3.0/24' },
    { kind: 'set', dst: '10.244.2.0/24', gw: '10.250.0.3' },
    { kind: 'set', dst: '10.244.4.0/24', gw: '10.250.0.5' },
  ]);
  t.same(planDirect(want.slice(0, 1), have.slice(0, 1), 2), [], 'nothing to do when all is right');
});
