// BIRD 2 as an eBGP top-of-rack router (AS 65000) of a 3-node lab (AS 64512, nodes in a full iBGP mesh):
// BIRD learns every node's block; a static prefix BIRD originates reaches every node's kernel, because the
// agents carry an explicit import policy for it (RFC 8212: without one, nothing is taken from eBGP peers).
import t from 'tap';
import type { Lab } from '../../lib/lab/lab';
import { startLabBird, type LabRouter } from '../../lib/lab/bird';
import { testLab, within } from '../helpers/lab';

const TOR_IP = '10.250.0.251';
const NODES = ['n1', 'n2', 'n3'];

const birdConf = (lab: Lab): string => `
router id ${TOR_IP};
log stderr { error, fatal };
protocol device {}
protocol static { ipv4; route 10.99.1.0/24 blackhole; route 10.98.0.0/24 blackhole; }
template bgp node {
  local ${TOR_IP} as 65000;
  hold time 9;
  connect retry time 2;
  ipv4 { import all; export where source = RTS_STATIC; };
}
${lab.state.nodes.map((n) => `protocol bgp ${n.name} from node { neighbor ${n.ip} as 64512; }`).join('\n')}
`;

let lab: Lab;
let tor: LabRouter;

t.before(async () => {
  lab = await testLab(t, { nodes: 3, network: 'bgp', ttlS: 6, intervalS: 0.5, agents: false, tag: 'tor' });
  tor = await startLabBird(lab.state, 'tor', TOR_IP, birdConf(lab));
  // only 10.99.0.0/16 is imported: 10.98.0.0/24 must stay out
  await lab.startAgents(NODES, ['--bgp-peer', `${TOR_IP}@65000`, '--bgp-import', '10.99.0.0/16', '--bgp-hold-time', '9']);
});

const esc = (s: string): string => s.replace(/\./g, '\\.');

t.test('birdc show route lists every node\'s block, learnt over eBGP from that node', async (t) => {
  let table = '';
  t.ok(await within(15_000, () => { table = tor.birdc('show route'); return NODES.every((n) => table.includes(lab.settings(n).subnet)); }) >= 0, table);
  for (const n of NODES) t.match(table, new RegExp(`${esc(lab.settings(n).subnet)}\\s+unicast \\[${n} [^\\]]*\\] \\* \\(100\\) \\[AS64512i\\]\\s+via ${esc(lab.node(n).ip)}`), `${n}'s block at BIRD`);
  t.notMatch(table, /10\.250\.0\.0\/24/, 'nothing but the blocks exported');
  // each node exports only its own block: BIRD has exactly one path per block
  t.equal((table.match(/unicast \[n\d/g) ?? []).length, 3, 'one path per block');
});

t.test('the static prefix BIRD originates is installed by berth on every node; the unlisted one is not', async (t) => {
  for (const n of NODES) {
    let r = '';
    t.ok(await within(15_000, () => { r = lab.exec(n, 'ip', ['-4', 'route', 'show', 'proto', '186']).stdout; return r.includes('10.99.1.0/24'); }) >= 0, `${n}: ${r}`);
    t.match(r, new RegExp(`^10\\.99\\.1\\.0/24 via ${esc(TOR_IP)} dev eth0`, 'm'), `${n}: 10.99.1.0/24 via the ToR`);
    t.notMatch(r, /10\.98\.0\.0/, `${n}: 10.98.0.0/24 rejected by import policy`);
  }
});
