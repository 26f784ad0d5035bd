// flannel's host-gw backend in a lab of three nodes on two underlay subnets (n1, n2 on 10.250.0.0/24; n3
// on 10.251.0.0/24 behind a router namespace): pods on n1 and n2 reach each other over plain routes via
// the nodes' underlay addresses; n3 is refused on both sides with an error naming it (no route, no
// traffic), and a node that leaves takes its routes away.
import t from 'tap';
import type { Lab } from '../../lib/lab/lab';
import type { Pod } from '../../lib/lab/pods';
import { runIn } from '../../lib/lab/sh';
import { agentLog, agentStatus, testLab, within } from '../helpers/lab';

let lab: Lab;
const pods: Record<string, Pod> = {};

t.before(async () => {
  lab = await testLab(t, { nodes: 3, subnets: 2, network: 'host-gw', ttlS: 4, intervalS: 0.5, tag: 'hg' });
  pods.a = lab.addPod('n1', 'a');
  pods.b = lab.addPod('n2', 'b');
  pods.c = lab.addPod('n3', 'c');
});

const ping = (from: Pod, to: Pod): boolean => runIn(from.ns, 'ping', ['-c', '1', '-W', '2', to.ip]).status === 0;
const routes = (node: string): string[] => runIn(lab.node(node).ns, 'ip', ['route', 'show', 'proto', '199']).stdout.split('\n').map((l) => l.trim()).filter(Boolean);

t.test('the lab has two underlay subnets: n3 is reached only through the router', async (t) => {
  t.equal(lab.node('n1').ip, '10.250.0.1');
  t.equal(lab.node('n3').ip, '10.251.0.3');
  t.match(runIn(lab.node('n1').ns, 'ip', ['route', 'get', '10.251.0.3']).stdout, /via 10\.250\.0\.253 dev eth0/);
  t.equal(runIn(lab.node('n1').ns, 'ping', ['-c', '1', '-W', '2', '10.251.0.3']).status, 0, 'n1 reaches n3 through the router');
});

t.test('same-subnet nodes: one route each, via the other node\'s underlay address on eth0; pods ping', async (t) => {
  const s1 = lab.settings('n1').subnet, s2 = lab.settings('n2').subnet;
  t.same(routes('n1'), [`${s2} via 10.250.0.2 dev eth0`]);
  t.same(routes('n2'), [`${s1} via 10.250.0.1 dev eth0`]);
  t.equal(lab.settings('n1').mtu, 1500, 'no encapsulation: containers get the underlay MTU');
  t.ok(ping(pods.a, pods.b), 'a (n1) -> b (n2)');
  t.ok(ping(pods.b, pods.a), 'b (n2) -> a (n1)');
  // no tunnel anywhere: the only links are lo, eth0, the bridge and veths
  t.notMatch(runIn(lab.node('n1').ns, 'ip', ['-d', 'link']).stdout, /vxlan|ipip/);
});

t.test('a node on the other subnet is refused: an error naming it, no route, no traffic', async (t) => {
  const s3 = lab.settings('n3').subnet;
  for (const n of ['n1', 'n2']) {
    t.notOk(routes(n).some((r) => r.startsWith(s3)), `${n}: no route to n3's ${s3}`);
    const refused = agentLog(lab, n).filter((l) => l.msg === 'node refused').map((l) => String(l.error));
    t.ok(refused.some((e) => e.startsWith(`host-gw: node n3 (10.251.0.3) is not on this node's underlay subnet 10.250.0.0/24`)), `${n} logged: ${refused[0]}`);
    t.match(String(agentStatus(lab, n).lastError), /node n3 \(10\.251\.0\.3\)/, `${n}: status names the refused node`);
  }
  t.same(routes('n3'), [], 'n3 routes to nobody');
  t.match(agentLog(lab, 'n3').filter((l) => l.msg === 'node refused').map((l) => String(l.error)).join('\n'), /node n1 \(10\.250\.0\.1\).*\n.*node n2 \(10\.250\.0\.2\)|node n2 .*\n.*node n1 /, 'n3 refused both');
  t.notOk(ping(pods.a, pods.c), 'a -> c fails');
  t.notOk(ping(pods.c, pods.b), 'c -> b fails');
  const refusals = agentLog(lab, 'n1').filter((l) => l.msg === 'node refused').length;
  await new Promise((r) => setTimeout(r, 1500));
  t.equal(agentLog(lab, 'n1').filter((l) => l.msg === 'node refused').length, refusals, 'logged when it changes, not every tick');
});

t.test('a route deleted by hand comes back', async (t) => {
  const s2 = lab.settings('n2').subnet;
  t.equal(runIn(lab.node('n1').ns, 'ip', ['route', 'del', s2]).status, 0);
  t.ok(await within(3000, () => routes('n1').includes(`${s2} via 10.250.0.2 dev eth0`)) >= 0, 'repaired');
  t.ok(ping(pods.a, pods.b));
});

t.test('a node that leaves (SIGINT) takes its routes away; the others drop theirs to it', async (t) => {
  const s2 = lab.settings('n2').subnet;
  await lab.stopAgent('n2', 'SIGINT');
  t.same(routes('n2'), [], 'n2: no route of ours left');
  t.ok(await within(3000, () => !routes('n1').some((r) => r.startsWith(s2))) >= 0, 'n1: route to n2 gone');
  t.notOk(ping(pods.a, pods.b), 'a -> b no longer');
});
