// FRR (Debian's frr, bgpd) as an eBGP peer of a 2-node lab: sessions Established both ways, FRR learns
// each node's block from that node, and a prefix FRR originates is installed by berth on both nodes.
import t from 'tap';
import type { Lab } from '../../lib/lab/lab';
import { startLabFrr, type LabFrr } from '../../lib/lab/frr';
import { testLab, within } from '../helpers/lab';

const FRR_IP = '10.250.0.252';
const NODES = ['n1', 'n2'];

const frrConf = (lab: Lab): string => `
hostname frr
router bgp 65010
 bgp router-id ${FRR_IP}
 no bgp network import-check
${lab.state.nodes.map((n) => ` neighbor ${n.ip} remote-as 64512\n neighbor ${n.ip} timers 3 9\n neighbor ${n.ip} timers connect 2`).join('\n')}
 address-family ipv4 unicast
  network 10.97.0.0/24
${lab.state.nodes.map((n) => `  neighbor ${n.ip} route-map ALL in\n  neighbor ${n.ip} route-map ALL out`).join('\n')}
 exit-address-family
route-map ALL permit 10
`;

let lab: Lab;
let frr: LabFrr;

t.before(async () => {
  lab = await testLab(t, { nodes: 2, network: 'bgp', ttlS: 6, intervalS: 0.5, agents: false, tag: 'frr' });
  frr = await startLabFrr(lab.state, 'frr', FRR_IP, frrConf(lab));
  await lab.startAgents(NODES, ['--bgp-peer', `${FRR_IP}@65010`, '--bgp-import', '10.97.0.0/16', '--bgp-hold-time', '9']);
});

interface FrrPeer { state: string; remoteAs: number; pfxRcd?: number }

t.test('FRR sees both nodes Established and learns each block from its node', async (t) => {
  let sum: { ipv4Unicast?: { peers: Record<string, FrrPeer> } } = {};
  t.ok(await within(20_000, () => {
    sum = JSON.parse(frr.vtysh('show bgp summary json')) as typeof sum;
    return NODES.every((n) => sum.ipv4Unicast?.peers[lab.node(n).ip]?.state === 'Established' && sum.ipv4Unicast.peers[lab.node(n).ip].pfxRcd === 1);
  }) >= 0, JSON.stringify(sum.ipv4Unicast?.peers));
  const table = JSON.parse(frr.vtysh('show bgp ipv4 unicast json')) as { routes: Record<string, { nexthops: { ip: string }[]; path?: string; aspath?: { string: string } }[]> };
  for (const n of NODES) {
    const paths = table.routes[lab.settings(n).subnet];
    t.ok(paths, `FRR has ${n}'s block`);
    t.equal(paths?.length, 1, 'one path: the node exports only its own block');
    t.equal(paths?.[0].nexthops[0].ip, lab.node(n).ip, 'next hop: the node');
  }
});

t.test('the prefix FRR originates is installed by berth on both nodes', async (t) => {
  for (const n of NODES) {
    let r = '';
    t.ok(await within(15_000, () => { r = lab.exec(n, 'ip', ['-4', 'route', 'show', 'proto', '186']).stdout; return r.includes('10.97.0.0/24'); }) >= 0, r);
    t.match(r, /^10\.97\.0\.0\/24 via 10\.250\.0\.252 dev eth0/m, `${n}: via FRR`);
  }
});
