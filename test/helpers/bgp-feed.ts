// The big-feed tests' feeder: a BIRD 2 whose config holds N /24s as one disabled static protocol ("feed"),
// exported over eBGP to one lab node; `birdc enable feed` announces them all at once, `disable feed`
// withdraws them. BIRD rather than GoBGP: gobgp adds one prefix per CLI call, BIRD loads a 1M-route static
// table from its config in a few seconds. feedLab: the lab both big-feed tests start from.
import type { Lab } from '../../lib/lab/lab';
import type { Pod } from '../../lib/lab/pods';
import { startLabBird, type LabRouter } from '../../lib/lab/bird';
import { testLab } from './lab';

/** 32.0.0.0/4 holds 2^20 /24s and meets no lab address (10.x) */
export const FEED_RANGE = '32.0.0.0/4';
export const FEED_MAX = 1 << 20;

/** the i-th fed prefix: /24s from 32.0.0.0 up */
export const feedPrefix = (i: number): string => `${32 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}.0/24`;

/** `alsoTo`: more eBGP receivers of the same feed (a control BIRD), each its own session from the same static table */
export function feederConf(o: { n: number; feederIp: string; nodeIp: string; holdS: number; alsoTo?: { name: string; ip: string; asn: number }[] }): string {
  if (!Number.isInteger(o.n) || o.n < 1 || o.n > FEED_MAX) throw new Error(`feed size ${o.n}: want 1 to ${FEED_MAX} (the /24s of ${FEED_RANGE})`);
  const routes: string[] = [];
  for (let i = 0; i < o.n; i++) routes.push(`route ${feedPrefix(i)} blackhole;`);
  return `
router id ${o.feederIp};
log stderr { error, fatal };
protocol device {}
protocol static feed { disabled; ipv4; ${routes.join('\n')} }
${[{ name: 'node', ip: o.nodeIp, asn: 64512 }, ...(o.alsoTo ?? [])].map((p) => `protocol bgp ${p.name} {
  local ${o.feederIp} as 65000;
  neighbor ${p.ip} as ${p.asn};
  hold time ${o.holdS};
  connect retry time 2;
  ipv4 { import none; export where source = RTS_STATIC; };
}`).join('\n')}
`;
}

export const FEEDER_IP = '10.250.0.251';
/** the lab's lease TTL: short, so that an agent blocked for a few seconds would lose its lease and show it */
export const FEED_TTL_S = 6;
const HOLD_S = 9;
const AGENT_FLAGS = ['--bgp-hold-time', String(HOLD_S), '--bgp-gr-time', '60'];

export interface FeedLab {
  lab: Lab;
  feeder: LabRouter;
  /** one pod per node, in node order: pods[0] ("a") on n1, the fed node; "b" on n2; ... */
  pods: Pod[];
}

/** A BGP lab of `nodes` nodes whose n1 peers with a feeder of `n` prefixes (disabled until `birdc enable feed`), a pod on each node. */
export async function feedLab(t: Parameters<typeof testLab>[0], o: { nodes: number; n: number; tag: string }): Promise<FeedLab> {
  const lab = await testLab(t, { nodes: o.nodes, network: 'bgp', ttlS: FEED_TTL_S, intervalS: 0.5, agents: false, tag: o.tag });
  const feeder = await startLabBird(lab.state, 'feed', FEEDER_IP, feederConf({ n: o.n, feederIp: FEEDER_IP, nodeIp: lab.node('n1').ip, holdS: HOLD_S }));
  await lab.startAgents(['n1'], [...AGENT_FLAGS, '--bgp-peer', `${FEEDER_IP}@65000`, '--bgp-import', FEED_RANGE]);
  const others = lab.state.nodes.map((n) => n.name).filter((n) => n !== 'n1');
  await lab.startAgents(others, AGENT_FLAGS);
  const pods = ['n1', ...others].map((node, i) => lab.addPod(node, String.fromCharCode(97 + i)));
  return { lab, feeder, pods };
}
