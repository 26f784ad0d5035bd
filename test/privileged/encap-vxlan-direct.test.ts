// flannel's VXLAN with DirectRouting in a lab of three nodes on two underlay subnets (n1, n2 | router | n3):
// n1 and n2 route to each other directly (no VXLAN entries for each other), n3 is reached over VXLAN (route
// on berth.1, neighbour, FDB to 10.251.0.3), every pod pings every other, the VXLAN device carries only
// the cross-subnet traffic, and a node that leaves removes its device and direct routes.
import t from 'tap';
import type { Lab } from '../../lib/lab/lab';
import type { Pod } from '../../lib/lab/pods';
import { runIn } from '../../lib/lab/sh';
import { testLab, vxlanState, within } from '../helpers/lab';
import { linkPackets } from '../helpers/encap';

let lab: Lab;
const pods: Record<string, Pod> = {};

t.before(async () => {
  lab = await testLab(t, { nodes: 3, subnets: 2, network: 'vxlan', agentArgs: ['--vxlan-direct-routing'], ttlS: 4, intervalS: 0.5, tag: 'dr' });
  pods.a = lab.addPod('n1', 'a');
  pods.b = lab.addPod('n2', 'b');
  pods.c = lab.addPod('n3', 'c');
});

const ping = (from: Pod, to: Pod, n = 1): boolean => runIn(from.ns, 'ping', ['-c', String(n), '-i', '0.2', '-W', '2', to.ip]).status === 0;
const direct = (node: string): string[] => runIn(lab.node(node).ns, 'ip', ['route', 'show', 'proto', '199']).stdout.split('\n').map((l) => l.trim()).filter(Boolean);

t.test('every pod pings every other, on the same subnet and across the router', async (t) => {
  for (const [x, y] of [['a', 'b'], ['b', 'a'], ['a', 'c'], ['c', 'a'], ['b', 'c'], ['c', 'b']]) t.ok(ping(pods[x], pods[y]), `${x} -> ${y}`);
});

t.test('same subnet: a direct route via the underlay address, no VXLAN entry; other subnet: route, neighbour, FDB on berth.1', async (t) => {
  const s2 = lab.settings('n2').subnet, s3 = lab.settings('n3').subnet;
  t.same(direct('n1'), [`${s2} via 10.250.0.2 dev eth0`]);
  const v = vxlanState(lab, 'n1');
  const mac3 = /link\/ether ([0-9a-f:]+)/.exec(vxlanState(lab, 'n3').link)![1];
  const gw3 = s3.replace('/24', '');
  t.same(v.routes, [`${s3} via ${gw3} onlink`], 'only n3 over VXLAN');
  t.same(v.neighs, [`${gw3} lladdr ${mac3} PERMANENT`]);
  t.same(v.fdbs, [`${mac3} dst 10.251.0.3 self permanent`]);
  // n3 has nobody on its subnet: both others over VXLAN, no direct route
  t.same(direct('n3'), []);
  t.equal(vxlanState(lab, 'n3').fdbs.length, 2);
});

t.test('the VXLAN device carries a -> c but not a -> b', async (t) => {
  const before = linkPackets(lab.node('n1').ns, 'berth.1');
  t.ok(ping(pods.a, pods.b, 5));
  const mid = linkPackets(lab.node('n1').ns, 'berth.1');
  t.ok(mid.tx - before.tx < 5, `a -> b: ${mid.tx - before.tx} packets on berth.1 (fewer than the 5 pings)`);
  t.ok(ping(pods.a, pods.c, 5));
  const after = linkPackets(lab.node('n1').ns, 'berth.1');
  t.ok(after.tx - mid.tx >= 5, `a -> c: ${after.tx - mid.tx} packets on berth.1`);
});

t.test('a node that leaves (SIGINT) removes its VXLAN device and direct routes', async (t) => {
  const s1 = lab.settings('n1').subnet;
  await lab.stopAgent('n1', 'SIGINT');
  const ns = lab.node('n1').ns;
  t.not(runIn(ns, 'ip', ['link', 'show', 'berth.1']).status, 0, 'berth.1 gone');
  t.same(direct('n1'), [], 'no direct route left');
  t.same(runIn(ns, 'ip', ['route', 'show', 'dev', 'berth.1']).stdout, '', 'no route on berth.1');
  t.ok(await within(3000, () => !direct('n2').some((r) => r.startsWith(s1))) >= 0, 'n2 dropped its direct route to n1');
  t.ok(await within(3000, () => !vxlanState(lab, 'n3').routes.some((r) => r.startsWith(s1))) >= 0, 'n3 dropped its VXLAN route to n1');
});
