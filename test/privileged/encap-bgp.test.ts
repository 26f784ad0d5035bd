// Calico's encapsulations for the BGP backend in a lab of three nodes on two underlay subnets (n1, n2 on
// 10.250.0.0/24; n3 on 10.251.0.0/24 behind a router namespace). The routes are BGP's either way; the mode
// decides their shape: "vxlan cross-subnet" keeps n1 <-> n2 plain (via the underlay address on eth0) and
// sends n3's through berth.1 (onlink via 10.251.0.3, with its neighbour and FDB entry); "vxlan always"
// moves n2's onto the tunnel too, after a hitless restart with the new flag. A node that leaves removes its
// tunnel device and every route through it. IPIP has its own file (encap-ipip), which the QEMU guest runs.
import t from 'tap';
import { runIn } from '../../lib/lab/sh';
import { within } from '../helpers/lab';
import { BgpEncapLab, ENCAP_NODES } from '../helpers/encap-lab';
import { linkPackets } from '../helpers/encap';

const NODES = ENCAP_NODES;
let e: BgpEncapLab;

t.before(async () => {
  e = await BgpEncapLab.up(t, 'eb');
});

t.test('VXLAN cross-subnet: plain routes on the same subnet, berth.1 (route, neighbour, FDB) across the router', async (t) => {
  await e.start(['--bgp-vxlan', 'cross-subnet']);
  t.ok(await e.routesBecome('n1', [`${e.block('n2')} via 10.250.0.2 dev eth0`, `${e.block('n3')} via 10.251.0.3 dev berth.1 onlink`]), `n1: ${e.routes('n1').join(' | ')}`);
  const mac3 = /link\/ether ([0-9a-f:]+)/.exec(runIn(e.ns('n3'), 'ip', ['link', 'show', 'berth.1']).stdout)![1];
  const ns1 = e.ns('n1');
  t.ok(await within(5000, () => runIn(ns1, 'bridge', ['fdb', 'show', 'dev', 'berth.1']).stdout.trim() === `${mac3} dst 10.251.0.3 self permanent`), 'n1: one FDB entry, n3\'s VTEP at its underlay address');
  t.match(runIn(ns1, 'ip', ['neigh', 'show', 'dev', 'berth.1']).stdout.trim(), new RegExp(`^10\\.251\\.0\\.3 lladdr ${mac3} PERMANENT$`));
  // n3 is alone on its subnet: both others through the tunnel
  t.ok(await within(10_000, () => e.routes('n3').filter((r) => r.includes('dev berth.1 onlink')).length === 2), `n3: ${e.routes('n3').join(' | ')}`);
  t.equal(e.lab.settings('n1').mtu, 1450, 'containers get the VXLAN MTU');
  for (const [x, y] of [['a', 'b'], ['b', 'a'], ['a', 'c'], ['c', 'a'], ['b', 'c'], ['c', 'b']]) t.ok(await within(5000, () => e.ping(x, y)) >= 0, `${x} -> ${y}`);
  const p0 = linkPackets(ns1, 'berth.1');
  t.ok(e.ping('a', 'b', 5));
  const p1 = linkPackets(ns1, 'berth.1');
  t.ok(p1.tx - p0.tx < 5, `a -> b not through berth.1 (${p1.tx - p0.tx} packets)`);
  t.ok(e.ping('a', 'c', 5));
  t.ok(linkPackets(ns1, 'berth.1').tx - p1.tx >= 5, 'a -> c through berth.1');
});

t.test('a hitless restart with the same flags changes nothing; with "always" n2 moves onto the tunnel', async (t) => {
  const snap = (): string => JSON.stringify(NODES.map((n) => [e.routes(n), runIn(e.ns(n), 'ip', ['-o', 'link', 'show', 'berth.1']).stdout]));
  const before = snap();
  await e.stop('SIGTERM');
  await e.lab.startAgents(NODES, ['--bgp-vxlan', 'cross-subnet']);
  await new Promise((r) => setTimeout(r, 3000)); // a few ticks, and the speaker's FIB reconcile
  t.equal(snap(), before, 'routes and devices (index, MAC) as they were');
  await e.stop('SIGTERM');
  await e.lab.startAgents(NODES, ['--bgp-vxlan', 'always']);
  t.ok(await e.routesBecome('n1', [`${e.block('n2')} via 10.250.0.2 dev berth.1 onlink`, `${e.block('n3')} via 10.251.0.3 dev berth.1 onlink`]), `n1: ${e.routes('n1').join(' | ')}`);
  t.ok(await within(5000, () => runIn(e.ns('n1'), 'bridge', ['fdb', 'show', 'dev', 'berth.1']).stdout.includes('dst 10.250.0.2 self permanent')), 'n1 has an FDB entry for n2 now');
  t.ok(await within(5000, () => e.ping('a', 'b')) >= 0, 'a -> b over the tunnel');
  const p0 = linkPackets(e.ns('n1'), 'berth.1');
  t.ok(e.ping('a', 'b', 5));
  t.ok(linkPackets(e.ns('n1'), 'berth.1').tx - p0.tx >= 5, 'a -> b through berth.1');
});

t.test('nodes that leave (SIGINT) remove their tunnel device and every route through it', async (t) => {
  await e.stop('SIGINT');
  for (const n of NODES) {
    t.notOk(e.hasLink(n, 'berth.1'), `${n}: berth.1 removed`);
    t.notOk(e.routes(n).some((r) => r.includes('berth.')), `${n}: no route through a tunnel: ${e.routes(n).join(' | ')}`);
    t.notOk(e.hasLink(n, 'berth.ipip'), `${n}: no berth.ipip`);
  }
});
