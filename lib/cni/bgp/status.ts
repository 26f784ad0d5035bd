// Plain-data snapshots for `berth bgp peers` and `berth bgp routes` (the shapes of birdc's
// `show protocols` and `show route`), kept apart from the speaker so the CLI can import just the types.
import { formatCommunity, asPathString } from './policy';
import type { Rib } from './rib';
import type { Route } from './route';
import type { FsmState } from './fsm';
import type { PeerState } from './peer-state';

export interface PeerStatus {
  address: string;
  asn: number;
  description?: string;
  state: FsmState;
  /** ISO time of the last state change */
  since: string;
  /** the peer's BGP identifier, when Established */
  routerId?: string;
  holdTime?: number;
  keepaliveTime?: number;
  families: string[];
  /** routes in the Adj-RIB-In / accepted by import policy / sent */
  received: number;
  accepted: number;
  advertised: number;
  updatesIn: number;
  updatesOut: number;
  lastError?: string;
  /** RFC 4724: the peer is restarting and its routes are kept stale */
  gracefulRestart: boolean;
  /** RFC 4724 §4.1: after our restart, the families whose selection waits for this peer's End-of-RIB */
  awaitingEndOfRib?: ('ipv4' | 'ipv6')[];
}

export interface RouteStatus {
  prefix: string;
  nextHop: string;
  /** "local" or the peer address */
  from: string;
  asPath: string;
  origin: 'IGP' | 'EGP' | 'incomplete';
  localPref?: number;
  med?: number;
  communities: string[];
  best: boolean;
  stale: boolean;
  /** ECMP: the next hops of the best route's multipath set, its own first (only with more than one path) */
  multipath?: string[];
}

export function peerStatus(p: PeerState, rib: Rib): PeerStatus {
  const n = p.session.fsm.negotiated;
  // counters, not a walk of the table: status is asked for every tick
  const accepted = rib.acceptedCount(p.id);
  return {
    address: p.id, asn: p.config.asn, description: p.config.description, state: p.session.fsm.state,
    since: new Date(p.since).toISOString(), routerId: n?.peerRouterId, holdTime: n?.holdTime, keepaliveTime: n?.keepaliveTime,
    families: (n?.families ?? []).map((f) => (f.afi === 1 ? 'ipv4' : 'ipv6')),
    received: rib.receivedCount(p.id), accepted, advertised: p.adjOut.size, updatesIn: p.updatesIn, updatesOut: p.updatesOut,
    lastError: p.lastError, gracefulRestart: p.grTimer !== undefined,
  };
}

export function routeStatus(r: Route, best: boolean): RouteStatus {
  return {
    prefix: r.prefix, nextHop: r.attrs.nextHop ?? '', from: r.source.local ? 'local' : r.source.address,
    asPath: asPathString(r), origin: (['IGP', 'EGP', 'incomplete'] as const)[r.attrs.origin ?? 2],
    localPref: r.attrs.localPref, med: r.attrs.med, communities: (r.attrs.communities ?? []).map(formatCommunity),
    best, stale: r.stale === true,
    ...(r.multipath ? { multipath: r.multipath.map((p) => p.attrs.nextHop ?? '') } : {}),
  };
}
