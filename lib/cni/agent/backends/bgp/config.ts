// `berth agent run --backend bgp` flags: the node's AS, timers, the iBGP mesh switch and external peers
// (route reflectors, top-of-rack routers). agent-config.ts spreads BGP_FLAGS into its flag table and calls
// parseBgpConfig only for the bgp backend; every error names its flag.
import * as net from 'node:net';
import { bool, str, type FlagSpec, type Parsed } from '../../../../util/command-line';
import { BerthError } from '../../../../util/errors';
import { parseCommunity } from '../../../bgp/policy';
import { MAX_PATHS_LIMIT } from '../../../bgp/speaker-config';
import type { Ipv4Net } from '../../subnets';
import { checkSubnetLen6, parseNet6 } from '../../subnets6';

export interface ExternalPeer {
  address: string;
  asn: number;
}

export interface BgpAgentConfig {
  asn: number;
  /** proposed hold time, seconds (0 or >= 3) */
  holdTime: number;
  /** RFC 4724 restart time we advertise and the longest we keep a restarting peer's routes */
  grTime: number;
  /** RFC 4724 §4.1 Selection_Deferral_Timer after our own restart, seconds (absent: selectionDeferralOf) */
  selectionDeferral?: number;
  /** full iBGP mesh with every other node of the store (off when a route reflector serves the nodes) */
  mesh: boolean;
  peers: ExternalPeer[];
  /** prefixes accepted from external (eBGP) peers; none by default (RFC 8212) */
  importPrefixes: string[];
  /** TCP port to listen and connect on (179) */
  port: number;
  /** the IPv6 range, when containers get an IPv6 address too (each node's block: see subnets6.ts) */
  ipv6?: { network: string; subnetLen: number };
  /** prefix limit per external peer address ('*': every external peer without its own); Cease 6/1 past it */
  maxPrefixes?: Record<string, number>;
  /** seconds before a peer shut down for too many prefixes is tried again (0: never) */
  maxPrefixRestartTime?: number;
  /** RFC 8538 N bit: a hold-timer expiry or non-hard Cease is a graceful restart where both sides agree */
  notificationRestart?: boolean;
  /** route reflection: every mesh node is a client of this node */
  routeReflector?: boolean;
  /** configured iBGP peers (by address) that are route-reflector clients of this node */
  rrClients?: string[];
  /** communities added to every route exported to external peers */
  exportCommunities?: string[];
  /** routes from external peers carrying one of these are accepted (whatever the prefix) / rejected (first) */
  importAcceptCommunities?: string[];
  importRejectCommunities?: string[];
  /** RFC 4456 cluster id (an IPv4 address; the router id when reflecting without one) */
  clusterId?: string;
  /** tunnel to other nodes (all, or those on another underlay subnet) instead of routing plainly */
  encap?: BgpEncap;
  /** ECMP: up to this many equal-cost paths per prefix into the kernel as one multipath route (absent: 1) */
  maxPaths?: number;
}

/** Calico's ipipMode / vxlanMode of an IP pool: when routes to another node's block are encapsulated */
export type EncapMode = 'always' | 'cross-subnet';

/** One encapsulation for the BGP-learnt routes (Calico allows one per pool, never both). */
export interface BgpEncap {
  kind: 'ipip' | 'vxlan';
  mode: EncapMode;
}

/** Calico's IPv6 block size */
export const DEFAULT_SUBNET_LEN6 = 122;

export const DEFAULT_BGP_ASN = 64512;

export const BGP_FLAGS: FlagSpec = {
  'bgp-asn': { value: true, arg: 'N', default: String(DEFAULT_BGP_ASN), help: 'the AS number of every node (bgp backend)' },
  'bgp-hold-time': { value: true, arg: 'SECONDS', default: '90', help: 'the hold time proposed to peers: 0, or 3 and more' },
  'bgp-gr-time': { value: true, arg: 'SECONDS', default: '120', help: 'graceful restart time: advertised, and how long a restarting peer\'s routes are kept' },
  'bgp-selection-deferral': { value: true, arg: 'SECONDS', help: 'after a restart, wait at most this long for the peers\' End-of-RIB before changing the kernel routes or advertising (default: half of --bgp-gr-time)' },
  'bgp-no-mesh': { value: false, help: 'no full iBGP mesh between the nodes (when route reflectors serve them)' },
  'bgp-peer': { value: true, repeat: true, arg: 'ADDR@ASN', help: 'an external peer (route reflector, top-of-rack router); comma-separated lists too' },
  'bgp-import': { value: true, repeat: true, arg: 'PREFIX', help: 'accept this prefix from external peers (none by default, RFC 8212)' },
  'bgp-port': { value: true, arg: 'N', default: '179', help: 'the TCP port to listen and connect on' },
  'bgp-max-prefixes': { value: true, repeat: true, arg: '[ADDR=]N', help: 'shut an external peer down (Cease 6/1) past N prefixes; ADDR= for one peer, bare N for every external peer' },
  'bgp-max-prefix-restart': { value: true, arg: 'SECONDS', help: 'retry a peer shut down by --bgp-max-prefixes after this long (default 60; 0: never)' },
  'bgp-notification-restart': { value: false, help: 'advertise the RFC 8538 N bit: hold-timer expiry and soft Cease restart gracefully' },
  'bgp-route-reflector': { value: false, help: 'reflect routes between the mesh nodes (each is a client; the clients run --bgp-no-mesh)' },
  'bgp-rr-client': { value: true, repeat: true, arg: 'ADDR', help: 'this iBGP --bgp-peer is a route-reflector client of this node' },
  'bgp-cluster-id': { value: true, arg: 'IPV4', help: 'route-reflector cluster id (default: the router id)' },
  'bgp-export-community': { value: true, repeat: true, arg: 'ASN:VALUE', help: 'add this community to the routes exported to external peers' },
  'bgp-import-accept-community': { value: true, repeat: true, arg: 'ASN:VALUE', help: 'accept routes from external peers carrying this community (besides --bgp-import)' },
  'bgp-import-reject-community': { value: true, repeat: true, arg: 'ASN:VALUE', help: 'reject routes from external peers carrying this community (checked first)' },
  'bgp-max-paths': { value: true, arg: 'N', default: '1', help: `ECMP: install up to N equal-cost paths of a prefix as one multipath kernel route (1..${MAX_PATHS_LIMIT}; 1: the best path only)` },
  'bgp-ipip': { value: true, arg: 'never|always|cross-subnet', help: 'IPv4-in-IPv4 to other nodes (Calico\'s ipipMode): all, or only those on another underlay subnet' },
  'bgp-vxlan': { value: true, arg: 'never|always|cross-subnet', help: 'VXLAN (--vni, --port) to other nodes (Calico\'s vxlanMode): all, or only those on another underlay subnet' },
  network6: { value: true, arg: 'CIDR', help: 'give containers an IPv6 address from this range too (bgp backend)' },
  'subnet-len6': { value: true, arg: 'N', help: `prefix length of each node's IPv6 block (default: ${DEFAULT_SUBNET_LEN6}, with --network6)` },
};

/**
 * The Selection_Deferral_Timer when not given: half the restart time. FRR (select-defer-time, 360 s) and
 * BIRD (graceful restart wait, 240 s) size theirs for routers loading full tables from many peers, next to
 * stale-path timers as long. Our peers (other nodes) keep our routes only for their restart time once our
 * session is back, so our End-of-RIB must come well before that; half leaves the other half for the session
 * to come back at all. A peer that never sends End-of-RIB holds the kernel routes this long, no longer.
 */
export function selectionDeferralOf(c: Pick<BgpAgentConfig, 'grTime' | 'selectionDeferral'>): number {
  return c.selectionDeferral ?? Math.max(1, Math.floor(c.grTime / 2));
}

function int(v: string, flag: string, min: number, max: number): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < min || n > max) throw new BerthError(`invalid value "${v}" (want an integer from ${min} to ${max})`, { field: flag });
  return n;
}

function list(p: Parsed, name: string): string[] {
  const v = p.flags[name];
  const all = Array.isArray(v) ? v : typeof v === 'string' ? [v] : [];
  return all.flatMap((x) => x.split(',')).map((x) => x.trim()).filter(Boolean);
}

/** "ADDRESS@ASN", e.g. 10.250.0.254@65000 */
export function parsePeerSpec(s: string, flag = '--bgp-peer'): ExternalPeer {
  const m = /^([^@]+)@(\d+)$/.exec(s);
  if (!m || !net.isIP(m[1])) throw new BerthError(`invalid peer "${s}" (want ADDRESS@ASN, e.g. 10.250.0.254@65000)`, { field: flag });
  const asn = Number(m[2]);
  if (asn < 1 || asn > 0xffffffff) throw new BerthError(`invalid AS number ${m[2]} in "${s}" (want 1..4294967295)`, { field: flag });
  return { address: m[1], asn };
}

function checkPrefix(s: string, flag: string): string {
  const [ip, len, extra] = s.split('/');
  const max = net.isIPv4(ip ?? '') ? 32 : net.isIPv6(ip ?? '') ? 128 : -1;
  if (max < 0 || extra !== undefined || !/^\d+$/.test(len ?? '') || Number(len) > max) throw new BerthError(`invalid prefix "${s}" (want e.g. 10.99.0.0/16)`, { field: flag });
  return s;
}

/** --network6 / --subnet-len6 against the IPv4 network they are paired with. */
function parseIpv6(p: Parsed, net4: Ipv4Net, subnetLen: number): BgpAgentConfig['ipv6'] {
  const network = str(p, 'network6');
  if (network === undefined) {
    if (str(p, 'subnet-len6') !== undefined) throw new BerthError('needs --network6', { field: '--subnet-len6' });
    return undefined;
  }
  const net6 = parseNet6(network, '--network6');
  const subnetLen6 = int(str(p, 'subnet-len6') ?? String(DEFAULT_SUBNET_LEN6), '--subnet-len6', 1, 128);
  checkSubnetLen6(net4, subnetLen, net6, subnetLen6, '--subnet-len6');
  return { network, subnetLen: subnetLen6 };
}

function parseMaxPrefixes(p: Parsed, peers: ExternalPeer[], asn: number): Record<string, number> | undefined {
  const out: Record<string, number> = {};
  for (const v of list(p, 'bgp-max-prefixes')) {
    const eq = v.lastIndexOf('=');
    const addr = eq < 0 ? '*' : v.slice(0, eq);
    if (addr !== '*' && !peers.some((x) => x.address === addr && x.asn !== asn)) throw new BerthError(`"${addr}" is not an external --bgp-peer`, { field: '--bgp-max-prefixes' });
    out[addr] = int(v.slice(eq + 1), '--bgp-max-prefixes', 1, 0xffffffff);
  }
  return Object.keys(out).length ? out : undefined;
}

function communities(p: Parsed, name: string): string[] | undefined {
  const all = list(p, name);
  for (const c of all) {
    try { parseCommunity(c); } catch { throw new BerthError(`invalid community "${c}" (want ASN:VALUE, each 0..65535, e.g. 64512:100)`, { field: `--${name}` }); }
  }
  return all.length ? all : undefined;
}

function parseCommunities(p: Parsed): Pick<BgpAgentConfig, 'exportCommunities' | 'importAcceptCommunities' | 'importRejectCommunities'> {
  const out: Pick<BgpAgentConfig, 'exportCommunities' | 'importAcceptCommunities' | 'importRejectCommunities'> = {};
  const exportCommunities = communities(p, 'bgp-export-community');
  const importAcceptCommunities = communities(p, 'bgp-import-accept-community');
  const importRejectCommunities = communities(p, 'bgp-import-reject-community');
  if (exportCommunities) out.exportCommunities = exportCommunities;
  if (importAcceptCommunities) out.importAcceptCommunities = importAcceptCommunities;
  if (importRejectCommunities) out.importRejectCommunities = importRejectCommunities;
  const both = importAcceptCommunities?.find((c) => importRejectCommunities?.includes(c));
  if (both) throw new BerthError(`community ${both} is also in --bgp-import-reject-community`, { field: '--bgp-import-accept-community' });
  return out;
}

function parseRr(p: Parsed, peers: ExternalPeer[], asn: number): Pick<BgpAgentConfig, 'routeReflector' | 'rrClients' | 'clusterId'> {
  const rrClients = list(p, 'bgp-rr-client');
  for (const a of rrClients) if (!peers.some((x) => x.address === a && x.asn === asn)) throw new BerthError(`"${a}" is not an iBGP --bgp-peer (same AS)`, { field: '--bgp-rr-client' });
  const clusterId = str(p, 'bgp-cluster-id');
  if (clusterId !== undefined && !net.isIPv4(clusterId)) throw new BerthError(`invalid cluster id "${clusterId}" (want an IPv4 address)`, { field: '--bgp-cluster-id' });
  const routeReflector = bool(p, 'bgp-route-reflector');
  if (clusterId !== undefined && !routeReflector && !rrClients.length) throw new BerthError('needs --bgp-route-reflector or --bgp-rr-client', { field: '--bgp-cluster-id' });
  if (routeReflector && !!bool(p, 'bgp-no-mesh') && !rrClients.length) throw new BerthError('reflects between mesh nodes: drop --bgp-no-mesh or add --bgp-rr-client', { field: '--bgp-route-reflector' });
  return { ...(routeReflector ? { routeReflector } : {}), ...(rrClients.length ? { rrClients } : {}), ...(clusterId ? { clusterId } : {}) };
}

/** --bgp-ipip / --bgp-vxlan: at most one of them other than "never". */
export function parseEncap(p: Parsed): BgpEncap | undefined {
  const modes: BgpEncap[] = [];
  for (const kind of ['ipip', 'vxlan'] as const) {
    const v = str(p, `bgp-${kind}`) ?? 'never';
    if (v !== 'never' && v !== 'always' && v !== 'cross-subnet') throw new BerthError(`invalid mode "${v}" (want never, always or cross-subnet)`, { field: `--bgp-${kind}` });
    if (v !== 'never') modes.push({ kind, mode: v });
  }
  if (modes.length > 1) throw new BerthError('one encapsulation at a time: --bgp-ipip and --bgp-vxlan are both on (Calico allows one per pool)', { field: '--bgp-vxlan' });
  return modes[0];
}

export function parseBgpConfig(p: Parsed, net4: Ipv4Net, subnetLen: number): BgpAgentConfig {
  const encap = parseEncap(p);
  const holdTime = int(str(p, 'bgp-hold-time')!, '--bgp-hold-time', 0, 65535);
  if (holdTime === 1 || holdTime === 2) throw new BerthError('hold time must be 0 or at least 3 seconds (RFC 4271 §4.2)', { field: '--bgp-hold-time' });
  const ipv6 = parseIpv6(p, net4, subnetLen);
  const asn = int(str(p, 'bgp-asn')!, '--bgp-asn', 1, 0xffffffff);
  const peers = list(p, 'bgp-peer').map((s) => parsePeerSpec(s));
  const maxPrefixes = parseMaxPrefixes(p, peers, asn);
  const grTime = int(str(p, 'bgp-gr-time')!, '--bgp-gr-time', 1, 4095);
  const deferral = str(p, 'bgp-selection-deferral');
  const selectionDeferral = deferral === undefined ? undefined : int(deferral, '--bgp-selection-deferral', 1, 4095);
  if (selectionDeferral !== undefined && selectionDeferral >= grTime) throw new BerthError(`must be shorter than --bgp-gr-time (${grTime} s), how long peers keep our routes for our End-of-RIB`, { field: '--bgp-selection-deferral' });
  const restart = str(p, 'bgp-max-prefix-restart');
  const maxPaths = int(str(p, 'bgp-max-paths')!, '--bgp-max-paths', 1, MAX_PATHS_LIMIT);
  if (restart !== undefined && !maxPrefixes) throw new BerthError('needs --bgp-max-prefixes', { field: '--bgp-max-prefix-restart' });
  return {
    asn,
    holdTime,
    grTime,
    ...(selectionDeferral !== undefined ? { selectionDeferral } : {}),
    mesh: !bool(p, 'bgp-no-mesh'),
    peers,
    importPrefixes: list(p, 'bgp-import').map((s) => checkPrefix(s, '--bgp-import')),
    port: int(str(p, 'bgp-port')!, '--bgp-port', 1, 65535),
    ...(ipv6 ? { ipv6 } : {}), // IPv4-only configs stay exactly as they were
    // optional features appear only when set, so existing configs (and samePeer comparisons) do not change
    ...(maxPrefixes ? { maxPrefixes } : {}),
    ...(restart !== undefined ? { maxPrefixRestartTime: int(restart, '--bgp-max-prefix-restart', 0, 86400) } : {}),
    ...(bool(p, 'bgp-notification-restart') ? { notificationRestart: true } : {}),
    ...parseRr(p, peers, asn),
    ...parseCommunities(p),
    ...(encap ? { encap } : {}),
    ...(maxPaths > 1 ? { maxPaths } : {}),
  };
}
