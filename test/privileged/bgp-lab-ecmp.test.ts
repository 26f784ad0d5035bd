// ECMP against BIRD: two eBGP top-of-rack routers (BIRD, AS 65001 and 65002) announce the same prefix to a
// lab node running berth with --bgp-max-paths 4, and to a third BIRD, the control, whose kernel protocol
// has `merge paths on`. Both kernels must hold one route with the same two next hops; traffic crosses it;
// when one router withdraws the prefix both are left with the same single-path route. A second prefix that
// one router announces with a longer AS path is not equal cost: both kernels route it through the other alone.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import type { Lab } from '../../lib/lab/lab';
import { startLabBird, type LabRouter } from '../../lib/lab/bird';
import { runIn } from '../../lib/lab/sh';
import { testLab, within } from '../helpers/lab';
import { requireTools } from '../helpers/tools';
import { program } from '../helpers/frontend';

const BERTH = program('berth');
const PREFIX = '10.99.1.0/24';
/** announced by both routers, by tor1 with its AS prepended once more */
const LONGER = '10.99.2.0/24';
/** an address of PREFIX that each router holds itself: a ping reaches it through either next hop */
const TARGET = '10.99.1.1';
const TORS = [{ name: 'tor1', ip: '10.250.0.251', asn: 65001 }, { name: 'tor2', ip: '10.250.0.252', asn: 65002 }];
const CONTROL_IP = '10.250.0.249';

const torConf = (ip: string, asn: number, nodeIp: string, prepend: boolean): string => `
router id ${ip};
log stderr { error, fatal };
protocol device {}
protocol static anycast { ipv4; route ${PREFIX} blackhole; }
protocol static longer { ipv4; route ${LONGER} blackhole; }
template bgp toward {
  local ${ip} as ${asn};
  hold time 9;
  connect retry time 2;
  ipv4 {
    import none;
    export filter { if source != RTS_STATIC then reject; ${prepend ? `if net = ${LONGER} then bgp_path.prepend(${asn});` : ''} accept; };
  };
}
protocol bgp node from toward { neighbor ${nodeIp} as 64512; }
protocol bgp control from toward { neighbor ${CONTROL_IP} as 64512; }
`;

// the control: BIRD 2 merging equal BGP paths into one kernel route (what --bgp-max-paths does for berth)
const controlConf = `
router id ${CONTROL_IP};
log stderr { error, fatal };
protocol device {}
protocol kernel { ipv4 { import none; export all; }; merge paths on limit 4; }
template bgp uplink {
  local ${CONTROL_IP} as 64512;
  hold time 9;
  connect retry time 2;
  ipv4 { import all; export none; };
}
${TORS.map((r) => `protocol bgp ${r.name} from uplink { neighbor ${r.ip} as ${r.asn}; }`).join('\n')}
`;

interface IpRoute { dst: string; gateway?: string; protocol?: string; nexthops?: Array<{ gateway: string }> }
const kernelRoutes = (ns: string, prefix = PREFIX): IpRoute[] => JSON.parse(runIn(ns, 'ip', ['-j', '-4', 'route', 'show', prefix]).stdout) as IpRoute[];
const nextHops = (rs: IpRoute[]): string[] => rs.flatMap((r) => (r.nexthops ? r.nexthops.map((h) => h.gateway) : r.gateway ? [r.gateway] : [])).sort();

let lab: Lab;
let tors: LabRouter[];
let control: LabRouter;
let nodeNs: string;

t.before(async () => {
  requireTools(['bird', 'birdc', 'ip', 'ping']);
  lab = await testLab(t, { nodes: 1, network: 'bgp', ttlS: 6, intervalS: 0.5, agents: false, tag: 'ecmp' });
  nodeNs = lab.node('n1').ns;
  tors = [];
  for (const r of TORS) {
    const tor = await startLabBird(lab.state, r.name, r.ip, torConf(r.ip, r.asn, lab.node('n1').ip, r === TORS[0]));
    // the prefix's first address on the router itself, so traffic through either next hop is answered
    const added = runIn(tor.ns, 'ip', ['addr', 'add', `${TARGET}/32`, 'dev', 'lo']);
    if (added.status !== 0) throw new Error(`${r.name}: ${added.stderr}`);
    tors.push(tor);
  }
  control = await startLabBird(lab.state, 'ctl', CONTROL_IP, controlConf);
  await lab.startAgents(['n1'], [...TORS.map((r) => `--bgp-peer=${r.ip}@${r.asn}`), '--bgp-import', '10.99.0.0/16', '--bgp-hold-time', '9', '--bgp-max-paths', '4']);
});

/** waits until both kernels have PREFIX with `want` next hops; returns [berth's, BIRD's] */
async function both(want: string[], prefix = PREFIX): Promise<[IpRoute[], IpRoute[]]> {
  let ours: IpRoute[] = [], theirs: IpRoute[] = [];
  await within(20_000, () => {
    ours = kernelRoutes(nodeNs, prefix);
    theirs = kernelRoutes(control.ns, prefix);
    return nextHops(ours).join() === want.join() && nextHops(theirs).join() === want.join();
  });
  return [ours, theirs];
}

const ping = (): string => { const r = runIn(nodeNs, 'ping', ['-c', '2', '-W', '2', '-i', '0.2', TARGET]); return r.status === 0 ? '' : `${r.stdout}${r.stderr}`; };

t.test('two equal eBGP paths: one kernel route with both next hops, the same as BIRD\'s merge paths', async (t) => {
  const [ours, theirs] = await both(TORS.map((r) => r.ip));
  t.equal(ours.length, 1, `berth: one route ${JSON.stringify(ours)}`);
  t.equal(theirs.length, 1, `BIRD: one route ${JSON.stringify(theirs)}`);
  t.equal(ours[0]?.protocol, 'bgp', 'berth\'s is protocol 186');
  t.equal(theirs[0]?.protocol, 'bird', 'BIRD\'s is its own');
  t.same(nextHops(ours), TORS.map((r) => r.ip), 'berth: both routers');
  t.same(nextHops(ours), nextHops(theirs), 'the same next hop set as BIRD');
  t.equal(ping(), '', `${TARGET} answers across the multipath route`);
});

t.test('berth bgp routes shows both next hops of the prefix', async (t) => {
  const routes = JSON.parse(execFileSync(BERTH, ['bgp', 'routes', '--json', '--prefix', PREFIX, '--run-dir', lab.node('n1').runDir], { encoding: 'utf8' })) as Array<{ prefix: string; multipath?: string[] }>;
  t.equal(routes.length, 1, JSON.stringify(routes));
  t.same([...(routes[0]?.multipath ?? [])].sort(), TORS.map((r) => r.ip), 'the multipath set');
  const text = execFileSync(BERTH, ['bgp', 'routes', '--prefix', PREFIX, '--run-dir', lab.node('n1').runDir], { encoding: 'utf8' });
  for (const r of TORS) t.match(text, new RegExp(`via ${r.ip.replace(/\./g, '\\.')}`), `${r.ip} in the text`);
  t.match(text, /\(multipath\)/);
});

t.test('one router withdraws: both kernels are left with the same single-path route, and traffic still flows', async (t) => {
  tors[1].birdc('disable anycast');
  const [ours, theirs] = await both([TORS[0].ip]);
  t.equal(ours.length, 1);
  t.equal(ours[0]?.nexthops, undefined, 'berth: no longer multipath');
  t.equal(ours[0]?.gateway, TORS[0].ip, `berth: via ${TORS[0].ip}`);
  t.same(nextHops(ours), nextHops(theirs), 'the same as BIRD');
  t.equal(ping(), '', `${TARGET} answers through the remaining router`);

  tors[1].birdc('enable anycast');
  const [again, birdAgain] = await both(TORS.map((r) => r.ip));
  t.same(nextHops(again), TORS.map((r) => r.ip), 'announced again: multipath again');
  t.same(nextHops(again), nextHops(birdAgain), 'as BIRD');
});

t.test('a longer AS path is not equal cost: berth and BIRD both route through the shorter one alone', async (t) => {
  // both paths are in both RIBs (so the kernels below are the decision, not a path still on its way)
  const paths = (): number => (JSON.parse(execFileSync(BERTH, ['bgp', 'routes', '--all', '--json', '--prefix', LONGER, '--run-dir', lab.node('n1').runDir], { encoding: 'utf8' })) as unknown[]).length;
  t.ok(await within(15_000, () => paths() === 2) >= 0, 'berth has both paths');
  t.ok(await within(15_000, () => /BGP\.as_path: 65001 65001\n/.test(control.birdc(`show route all ${LONGER}`))) >= 0, 'BIRD has tor1\'s longer path too');
  const [ours, theirs] = await both([TORS[1].ip], LONGER);
  t.same(nextHops(ours), [TORS[1].ip], 'berth: the shorter path alone');
  t.same(nextHops(ours), nextHops(theirs), 'as BIRD');
});
