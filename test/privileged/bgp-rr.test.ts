// BIRD 2 as the route reflector of a 3-node lab: the agents run without a mesh, each peering only with
// BIRD (iBGP, as its reflector clients); BIRD reflects every node's block to the others, the agents
// install them, and pods on different nodes reach each other.
import t from 'tap';
import type { Lab } from '../../lib/lab/lab';
import type { Pod } from '../../lib/lab/pods';
import { startLabBird, type LabRouter } from '../../lib/lab/bird';
import { runIn } from '../../lib/lab/sh';
import { testLab } from '../helpers/lab';

const RR_IP = '10.250.0.250';
const NODES = ['n1', 'n2', 'n3'];

const birdConf = (lab: Lab): string => `
router id ${RR_IP};
log stderr { error, fatal };
protocol device {}
template bgp rrc {
  local ${RR_IP} as 64512;
  rr client;
  rr cluster id ${RR_IP};
  direct;
  hold time 9;
  connect retry time 2;
  ipv4 { import all; export all; gateway direct; };
}
${lab.state.nodes.map((n) => `protocol bgp ${n.name} from rrc { neighbor ${n.ip} as 64512; }`).join('\n')}
`;

let lab: Lab;
let rr: LabRouter;
const pods: Record<string, Pod> = {};

t.before(async () => {
  lab = await testLab(t, { nodes: 3, network: 'bgp', ttlS: 6, intervalS: 0.5, agents: false, tag: 'rr' });
  rr = await startLabBird(lab.state, 'rr', RR_IP, birdConf(lab));
  await lab.startAgents(NODES, ['--bgp-no-mesh', '--bgp-peer', `${RR_IP}@64512`, '--bgp-hold-time', '9']);
  pods.a = lab.addPod('n1', 'a');
  pods.b = lab.addPod('n2', 'b');
  pods.c = lab.addPod('n3', 'c');
});

const esc = (s: string): string => s.replace(/\./g, '\\.');

t.test('every node is an Established client of BIRD and peers with nobody else', async (t) => {
  const shown = rr.birdc('show protocols');
  for (const n of NODES) t.match(shown, new RegExp(`^${n}\\s+BGP\\s+---\\s+up\\s+\\S+\\s+Established`, 'm'), `${n} up at BIRD`);
  for (const n of NODES) {
    const ss = lab.exec(n, 'ss', ['-Htn', 'state', 'established', '( sport = :179 or dport = :179 )']).stdout.trim().split('\n').filter(Boolean);
    t.equal(ss.length, 1, `${n}: one BGP connection`);
    t.match(ss[0], new RegExp(esc(RR_IP)), `${n}: to the reflector`);
  }
});

t.test('BIRD reflects each block to the other nodes, which install it via the announcing node', async (t) => {
  const table = rr.birdc('show route');
  for (const n of NODES) t.match(table, new RegExp(esc(lab.settings(n).subnet)), `BIRD has ${n}'s block`);
  for (const n of NODES) {
    const r = lab.exec(n, 'ip', ['-4', 'route', 'show', 'proto', '186']).stdout;
    for (const o of NODES.filter((x) => x !== n)) t.match(r, new RegExp(`^${esc(lab.settings(o).subnet)} via ${esc(lab.node(o).ip)} dev eth0`, 'm'), `${n}: ${o}'s block via ${o}, not via the reflector`);
  }
});

t.test('pods on different nodes reach each other through reflected routes', async (t) => {
  for (const [x, y] of [['a', 'b'], ['a', 'c'], ['b', 'c'], ['c', 'a']]) t.equal(runIn(pods[x].ns, 'ping', ['-c', '1', '-W', '2', pods[y].ip]).status, 0, `${x} -> ${y}`);
});
