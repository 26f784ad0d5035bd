// A route as the RIBs hold it: one prefix, its attributes, and who it came from.
import type { Afi } from './codec/constants';
import type { PathAttributes } from './codec/attributes';

/** Where a route was learnt: a peer session, or this node itself. */
export interface RouteSource {
  /** stable key: the peer address, or "local" */
  id: string;
  /** peer address ("" for local routes); the last tie-breaker of §9.1.2.2 */
  address: string;
  asn: number;
  /** the peer's BGP identifier (ours for local routes) */
  routerId: string;
  /** true when the peer is in our AS (iBGP) */
  internal: boolean;
  /** RFC 4456: the peer is a route-reflector client of ours */
  rrClient: boolean;
  local: boolean;
}

/**
 * A route without its prefix: what the RIB stores per prefix. The NLRI of one UPDATE share one of these
 * (they share their attributes on the wire), so a full table holds a handful, not one per prefix.
 */
export interface RoutePath {
  afi: Afi;
  /** attributes without MP_REACH/MP_UNREACH: nextHop holds the IPv4 or IPv6 (global) next hop */
  attrs: PathAttributes;
  /** IPv6 link-local next hop, when the peer sent one (RFC 2545 §3) */
  linkLocalNextHop?: string;
  source: RouteSource;
  /** RFC 4724: kept from a restarting peer until it sends End-of-RIB or its restart time ends */
  stale?: boolean;
}

export interface Route extends RoutePath {
  prefix: string;
  /** a best route from the Loc-RIB with maxPaths > 1: its multipath set (itself first), when more than one path */
  multipath?: readonly RoutePath[];
}

export const LOCAL_SOURCE_ID = 'local';

/** BIRD/GoBGP's default LOCAL_PREF when none is set (RFC 4271 §5.1.5 leaves the value to policy) */
export const DEFAULT_LOCAL_PREF = 100;
