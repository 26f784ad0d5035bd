// A berth node as the route reflector of its lab (--bgp-route-reflector): n1 keeps the mesh and makes every
// node a client; n2 and n3 run without a mesh, peering only with n1; FRR is one more client
// (--bgp-rr-client). Each node's block reaches the others and FRR through n1 alone, with RFC 4456's
// ORIGINATOR_ID (the node that sent it to n1) and CLUSTER_LIST (n1's cluster id) as FRR shows them, and a
// prefix FRR originates reaches n2 and n3 reflected.
import t from 'tap';
import type { Lab } from '../../lib/lab/lab';
import { startLabFrr, type LabFrr } from '../../lib/lab/frr';
import { testLab, within } from '../helpers/lab';

const FRR_IP = '10.250.0.249';
const CLUSTER_ID = '10.0.0.77';

const frrConf = (rr: string): string => `
hostname frr
router bgp 64512
 bgp router-id ${FRR_IP}
 no bgp network import-check
 neighbor ${rr} remote-as 64512
 neighbor ${rr} timers 3 9
 neighbor ${rr} timers connect 2
 address-family ipv4 unicast
  network 10.97.5.0/24
 exit-address-family
`;

interface FrrPath { originatorId?: string; clusterList?: { list: string[] }; peer?: { peerId: string }; nexthops: { ip: string }[] }

let lab: Lab;
let frr: LabFrr;

t.before(async () => {
  lab = await testLab(t, { nodes: 3, network: 'bgp', ttlS: 6, intervalS: 0.5, agents: false, tag: 'brr' });
  const rr = lab.node('n1').ip;
  frr = await startLabFrr(lab.state, 'frr', FRR_IP, frrConf(rr));
  await lab.startAgents(['n1'], ['--bgp-route-reflector', '--bgp-cluster-id', CLUSTER_ID, '--bgp-peer', `${FRR_IP}@64512`, '--bgp-rr-client', FRR_IP, '--bgp-hold-time', '9']);
  await lab.startAgents(['n2', 'n3'], ['--bgp-no-mesh', '--bgp-peer', `${rr}@64512`, '--bgp-hold-time', '9']);
});

const esc = (s: string): string => s.replace(/\./g, '\\.');

t.test('FRR learns n2\'s and n3\'s blocks from n1, with ORIGINATOR_ID and CLUSTER_LIST set by the reflector', async (t) => {
  const rr = lab.node('n1').ip;
  for (const n of ['n2', 'n3']) {
    const block = lab.settings(n).subnet;
    let paths: FrrPath[] = [];
    t.ok(await within(20_000, () => { paths = (JSON.parse(frr.vtysh(`show bgp ipv4 unicast ${block} json`)) as { paths?: FrrPath[] }).paths ?? []; return paths.length > 0; }) >= 0, `FRR has ${n}'s block`);
    t.equal(paths.length, 1, `${n}: one path`);
    t.equal(paths[0].peer?.peerId, rr, `${n}'s block came from n1`);
    t.equal(paths[0].originatorId, lab.node(n).ip, `${n}: ORIGINATOR_ID is ${n}`);
    t.same(paths[0].clusterList?.list, [CLUSTER_ID], `${n}: CLUSTER_LIST is n1's cluster id`);
    t.equal(paths[0].nexthops[0].ip, lab.node(n).ip, `${n}: next hop unchanged by reflection`);
  }
  const own = (JSON.parse(frr.vtysh(`show bgp ipv4 unicast ${lab.settings('n1').subnet} json`)) as { paths?: FrrPath[] }).paths ?? [];
  t.equal(own.length, 1, 'n1\'s own block');
  t.equal(own[0].originatorId, undefined, 'n1\'s own block is not reflected: no ORIGINATOR_ID');
});

t.test('n2 and n3 install each other\'s blocks and FRR\'s prefix, all learnt through n1', async (t) => {
  for (const [n, other] of [['n2', 'n3'], ['n3', 'n2']]) {
    let r = '';
    const want = [lab.settings(other).subnet, lab.settings('n1').subnet, '10.97.5.0/24'];
    t.ok(await within(20_000, () => { r = lab.exec(n, 'ip', ['-4', 'route', 'show', 'proto', '186']).stdout; return want.every((p) => r.includes(p)); }) >= 0, `${n}: ${r}`);
    t.match(r, new RegExp(`^${esc(lab.settings(other).subnet)} via ${esc(lab.node(other).ip)} `, 'm'), `${n}: ${other}'s block via ${other}`);
    t.match(r, new RegExp(`^10\\.97\\.5\\.0/24 via ${esc(FRR_IP)} `, 'm'), `${n}: FRR's prefix via FRR`);
  }
});
