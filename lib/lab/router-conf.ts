// What a lab router is told and what the agents are told about it: the BIRD or FRR configuration of a
// route reflector (rr) or top-of-rack peer (tor), and the `berth agent run` flags that point every node at
// the lab's routers. The routers take the nodes as dynamic neighbours (any address of the underlay subnet),
// so a node that joins later needs no change to them.
import { DEFAULT_BGP_ASN } from '../cni/agent/backends/bgp/config';
import { UNDERLAY_PREFIX } from './names';
import type { LabRouterState, LabState } from './state';

const NODES_RANGE = `${UNDERLAY_PREFIX}.0/24`;
/** short timers, as the BGP lab tests use: a session comes up within seconds of an agent (re)start */
const HOLD_S = 9;
const CONNECT_RETRY_S = 2;

/** The nodes' AS: the lab's --agent-arg --bgp-asn, else the agent's default. */
export function nodesAsn(lab: LabState): number {
  const a = lab.agentArgs ?? [];
  for (let i = 0; i < a.length; i++) {
    if (a[i] === '--bgp-asn' && i + 1 < a.length) return Number(a[i + 1]);
    if (a[i].startsWith('--bgp-asn=')) return Number(a[i].slice('--bgp-asn='.length));
  }
  return DEFAULT_BGP_ASN;
}

/** Flags every agent gets for the lab's routers: a peer each; no mesh once a reflector serves the nodes; tor's prefixes imported. */
export function routerAgentArgs(lab: LabState): string[] {
  const routers = lab.routers ?? [];
  const args: string[] = [];
  if (routers.some((r) => r.role === 'rr')) args.push('--bgp-no-mesh');
  for (const r of routers) args.push('--bgp-peer', `${r.ip}@${r.asn}`);
  // RFC 8212: an eBGP peer's routes are taken only where an import policy names them
  for (const r of routers) if (r.role === 'tor') for (const p of r.announce) args.push('--bgp-import', p);
  return args;
}

export function birdConf(lab: LabState, r: LabRouterState): string {
  const node = nodesAsn(lab);
  const channel = r.role === 'rr'
    ? 'ipv4 { import all; export all; gateway direct; };'
    // a ToR gives the nodes only what it originates: their own blocks would come back with their AS in the path
    : 'ipv4 { import all; export where source = RTS_STATIC; };';
  return [
    `router id ${r.ip};`,
    'log stderr { error, fatal };',
    'protocol device {}',
    ...(r.announce.length ? [`protocol static { ipv4; ${r.announce.map((p) => `route ${p} blackhole;`).join(' ')} }`] : []),
    'protocol bgp nodes {',
    `  local ${r.ip} as ${r.asn};`,
    `  neighbor range ${NODES_RANGE} as ${node};`,
    '  dynamic name "node";',
    ...(r.role === 'rr' ? ['  rr client;', `  rr cluster id ${r.ip};`] : []),
    '  direct;',
    `  hold time ${HOLD_S};`,
    `  connect retry time ${CONNECT_RETRY_S};`,
    `  ${channel}`,
    '}',
    '',
  ].join('\n');
}

export function frrConf(lab: LabState, r: LabRouterState): string {
  return [
    `hostname ${r.name}`,
    `router bgp ${r.asn}`,
    ` bgp router-id ${r.ip}`,
    // no zebra here: nothing checks a `network` against a kernel table, and eBGP needs no policy to talk
    ' no bgp network import-check',
    ' no bgp ebgp-requires-policy',
    ...(r.role === 'rr' ? [` bgp cluster-id ${r.ip}`] : []),
    ' neighbor nodes peer-group',
    ` neighbor nodes remote-as ${nodesAsn(lab)}`,
    ` neighbor nodes timers ${HOLD_S / 3} ${HOLD_S}`,
    ` bgp listen range ${NODES_RANGE} peer-group nodes`,
    ' address-family ipv4 unicast',
    ...r.announce.map((p) => `  network ${p}`),
    ...(r.role === 'rr' ? ['  neighbor nodes route-reflector-client'] : []),
    ' exit-address-family',
    '',
  ].join('\n');
}
