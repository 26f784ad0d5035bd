// Calico's encapsulations for the BGP backend in a lab of three nodes on two underlay subnets (n1, n2 on
// 10.250.0.0/24; n3 on 10.251.0.0/24 behind a router namespace). The routes are BGP's either way; the mode
// decides their shape: "vxlan cross-subnet" keeps n1 <-> n2 plain (via the underlay address on eth0) and
// sends n3's through berth.1 (onlink via 10.251.0.3, with its neighbour and FDB entry); "vxlan always"
// moves n2's onto the tunnel too, after a hitless restart with the new flag. IPIP: this kernel may lack
// the ipip link kind (CONFIG_NET_IPIP): then the agent must refuse in one line naming --bgp-ipip and leave
// nothing behind; with it, the same matrix as VXLAN runs over berth.ipip. A node that leaves removes its
// tunnel device and every route through it.
import * as fs from 'node:fs';
import * as zlib from 'node:zlib';
import t from 'tap';
import type { Lab } from '../../lib/lab/lab';
import type { Pod } from '../../lib/lab/pods';
import { runIn } from '../../lib/lab/sh';
import { testLab, within } from '../helpers/lab';
import { linkPackets } from '../helpers/encap';

const NODES = ['n1', 'n2', 'n3'];
let lab: Lab;
const pods: Record<string, Pod> = {};

/** Does this kernel have IPIP tunnels (loaded, or buildable as a module)? */
function kernelHasIpip(): boolean {
  if (fs.existsSync('/sys/module/ipip')) return true;
  try {
    return /^CONFIG_NET_IPIP=[ym]$/m.test(zlib.gunzipSync(fs.readFileSync('/proc/config.gz')).toString());
  } catch {
    return fs.existsSync(`/lib/modules/${require('node:os').release()}`); // a modular kernel may have it: try for real
  }
}

t.before(async () => {
  lab = await testLab(t, { nodes: 3, subnets: 2, network: 'bgp', agents: false, ttlS: 6, intervalS: 0.5, tag: 'eb' });
});

const ping = (from: Pod, to: Pod, n = 1): boolean => runIn(from.ns, 'ping', ['-c', String(n), '-i', '0.2', '-W', '2', to.ip]).status === 0;
const bgpRoutes = (node: string): string[] => runIn(lab.node(node).ns, 'ip', ['route', 'show', 'proto', 'bgp']).stdout.split('\n').map((l) => l.trim().replace(/\s+/g, ' ')).filter((l) => l && !l.startsWith('blackhole'));
const block = (node: string): string => lab.settings(node).subnet;
const hasLink = (node: string, dev: string): boolean => runIn(lab.node(node).ns, 'ip', ['link', 'show', dev]).status === 0;

async function startAll(extra: string[]): Promise<void> {
  await lab.startAgents(NODES, extra);
  if (!pods.a) {
    pods.a = lab.addPod('n1', 'a');
    pods.b = lab.addPod('n2', 'b');
    pods.c = lab.addPod('n3', 'c');
  }
}

/** Waits until n1's routes to n2 and n3 are exactly these lines. */
async function n1RoutesBecome(want: string[]): Promise<boolean> {
  return (await within(15_000, () => JSON.stringify(bgpRoutes('n1').sort()) === JSON.stringify([...want].sort()))) >= 0;
}

async function stopAll(signal: NodeJS.Signals): Promise<void> {
  for (const n of NODES) await lab.stopAgent(n, signal);
}

t.test('IPIP: refused in one line where the kernel has no ipip, else pods ping over berth.ipip', async (t) => {
  if (!kernelHasIpip()) {
    await t.rejects(lab.startAgents(['n1'], ['--bgp-ipip', 'cross-subnet']), { message: /agent of n1 exited: berth: --bgp-ipip: this kernel has no IPIP tunnels \(CONFIG_NET_IPIP\): use --bgp-vxlan instead$/ });
    t.notOk(hasLink('n1', 'berth.ipip'), 'no tunnel device left');
    t.notOk(fs.existsSync(`${lab.node('n1').runDir}/subnet.json`), 'no settings written: the node never joined');
    t.same(bgpRoutes('n1'), [], 'no route');
    lab.node('n1').agentPid = undefined;
    return;
  }
  await startAll(['--bgp-ipip', 'cross-subnet']);
  t.ok(await n1RoutesBecome([`${block('n2')} via 10.250.0.2 dev eth0`, `${block('n3')} via 10.251.0.3 dev berth.ipip onlink`]), bgpRoutes('n1').join(' | '));
  for (const [x, y] of [['a', 'b'], ['a', 'c'], ['c', 'b']]) t.ok(ping(pods[x], pods[y]), `${x} -> ${y}`);
  const before = linkPackets(lab.node('n1').ns, 'berth.ipip');
  t.ok(ping(pods.a, pods.c, 5));
  t.ok(linkPackets(lab.node('n1').ns, 'berth.ipip').tx - before.tx >= 5, 'a -> c went through berth.ipip');
  await stopAll('SIGTERM');
  await startAll(['--bgp-ipip', 'always']);
  t.ok(await n1RoutesBecome([`${block('n2')} via 10.250.0.2 dev berth.ipip onlink`, `${block('n3')} via 10.251.0.3 dev berth.ipip onlink`]), bgpRoutes('n1').join(' | '));
  t.ok(ping(pods.a, pods.b) && ping(pods.a, pods.c), 'a -> b, a -> c');
  await stopAll('SIGINT');
  for (const n of NODES) t.notOk(hasLink(n, 'berth.ipip'), `${n}: berth.ipip removed on leave`);
});

t.test('VXLAN cross-subnet: plain routes on the same subnet, berth.1 (route, neighbour, FDB) across the router', async (t) => {
  await startAll(['--bgp-vxlan', 'cross-subnet']);
  t.ok(await n1RoutesBecome([`${block('n2')} via 10.250.0.2 dev eth0`, `${block('n3')} via 10.251.0.3 dev berth.1 onlink`]), `n1: ${bgpRoutes('n1').join(' | ')}`);
  const mac3 = /link\/ether ([0-9a-f:]+)/.exec(runIn(lab.node('n3').ns, 'ip', ['link', 'show', 'berth.1']).stdout)![1];
  const ns1 = lab.node('n1').ns;
  t.ok(await within(5000, () => runIn(ns1, 'bridge', ['fdb', 'show', 'dev', 'berth.1']).stdout.trim() === `${mac3} dst 10.251.0.3 self permanent`), 'n1: one FDB entry, n3\'s VTEP at its underlay address');
  t.match(runIn(ns1, 'ip', ['neigh', 'show', 'dev', 'berth.1']).stdout.trim(), new RegExp(`^10\\.251\\.0\\.3 lladdr ${mac3} PERMANENT$`));
  // n3 is alone on its subnet: both others through the tunnel
  t.ok(await within(10_000, () => bgpRoutes('n3').filter((r) => r.includes('dev berth.1 onlink')).length === 2), `n3: ${bgpRoutes('n3').join(' | ')}`);
  t.equal(lab.settings('n1').mtu, 1450, 'containers get the VXLAN MTU');
  for (const [x, y] of [['a', 'b'], ['b', 'a'], ['a', 'c'], ['c', 'a'], ['b', 'c'], ['c', 'b']]) t.ok(await within(5000, () => ping(pods[x], pods[y])) >= 0, `${x} -> ${y}`);
  const p0 = linkPackets(ns1, 'berth.1');
  t.ok(ping(pods.a, pods.b, 5));
  const p1 = linkPackets(ns1, 'berth.1');
  t.ok(p1.tx - p0.tx < 5, `a -> b not through berth.1 (${p1.tx - p0.tx} packets)`);
  t.ok(ping(pods.a, pods.c, 5));
  t.ok(linkPackets(ns1, 'berth.1').tx - p1.tx >= 5, 'a -> c through berth.1');
});

t.test('a hitless restart with the same flags changes nothing; with "always" n2 moves onto the tunnel', async (t) => {
  const snap = (): string => JSON.stringify(NODES.map((n) => [bgpRoutes(n), runIn(lab.node(n).ns, 'ip', ['-o', 'link', 'show', 'berth.1']).stdout]));
  const before = snap();
  await stopAll('SIGTERM');
  await lab.startAgents(NODES, ['--bgp-vxlan', 'cross-subnet']);
  await new Promise((r) => setTimeout(r, 3000)); // a few ticks, and the speaker's FIB reconcile
  t.equal(snap(), before, 'routes and devices (index, MAC) as they were');
  await stopAll('SIGTERM');
  await lab.startAgents(NODES, ['--bgp-vxlan', 'always']);
  t.ok(await n1RoutesBecome([`${block('n2')} via 10.250.0.2 dev berth.1 onlink`, `${block('n3')} via 10.251.0.3 dev berth.1 onlink`]), `n1: ${bgpRoutes('n1').join(' | ')}`);
  t.ok(await within(5000, () => runIn(lab.node('n1').ns, 'bridge', ['fdb', 'show', 'dev', 'berth.1']).stdout.includes('dst 10.250.0.2 self permanent')), 'n1 has an FDB entry for n2 now');
  t.ok(await within(5000, () => ping(pods.a, pods.b)) >= 0, 'a -> b over the tunnel');
  const p0 = linkPackets(lab.node('n1').ns, 'berth.1');
  t.ok(ping(pods.a, pods.b, 5));
  t.ok(linkPackets(lab.node('n1').ns, 'berth.1').tx - p0.tx >= 5, 'a -> b through berth.1');
});

t.test('nodes that leave (SIGINT) remove their tunnel device and every route through it', async (t) => {
  await stopAll('SIGINT');
  for (const n of NODES) {
    t.notOk(hasLink(n, 'berth.1'), `${n}: berth.1 removed`);
    t.notOk(bgpRoutes(n).some((r) => r.includes('berth.')), `${n}: no route through a tunnel: ${bgpRoutes(n).join(' | ')}`);
    t.notOk(hasLink(n, 'berth.ipip'), `${n}: no berth.ipip`);
  }
});
