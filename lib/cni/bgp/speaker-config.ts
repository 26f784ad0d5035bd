// Speaker and peer configuration, with the defaults and the checks (errors name the field).
import * as net from 'node:net';
import { ConfigError } from '../../util/errors';
import { normalizePrefix } from './codec/prefix';
import { validatePolicy, type Policy } from './policy';
import type { BestChange } from './rib';
import type { Afi } from './codec/constants';
import type { SelectionEnd } from './selection-deferral';

export type FamilyName = 'ipv4' | 'ipv6';

export interface PeerConfig {
  address: string;
  asn: number;
  /** TCP port of the peer (179) */
  port?: number;
  /** source address for outgoing connections */
  localAddress?: string;
  /** only accept connections, never connect (RFC 4271 §8.1.1) */
  passive?: boolean;
  /** proposed hold time, seconds: 0 or >= 3 (default 90) */
  holdTime?: number;
  /** seconds between connection attempts (default 5: lab-friendly; RFC 4271 suggests 120) */
  connectRetryTime?: number;
  /** RFC 4456: the peer is our route-reflector client (iBGP only) */
  rrClient?: boolean;
  importPolicy?: Policy;
  exportPolicy?: Policy;
  /** address families to negotiate (default both) */
  families?: FamilyName[];
  /** next hops to announce for the family the session's own address is not of */
  nextHop4?: string;
  nextHop6?: string;
  /** our IPv6 link-local address on the link to this peer (RFC 2545 §3) */
  nextHop6LinkLocal?: string;
  /** RFC 4486: most prefixes of one family the peer may send; over it the session ends with Cease 6/1 */
  maxPrefixes?: number;
  /** seconds the session stays down after max-prefix before reconnecting (default 60) */
  maxPrefixRestartTime?: number;
  /** description shown in `berth bgp peers` */
  description?: string;
}

export interface SpeakerOptions {
  asn: number;
  routerId: string;
  /** where to accept BGP connections; no listener when absent */
  listen?: { address: string; port: number };
  peers: PeerConfig[];
  /** this node's own blocks, announced from start */
  originate: string[];
  onBestChange?: (changes: BestChange[]) => void;
  /**
   * onBestChange's consumer is behind (e.g. the FIB's kernel writes): a promise to wait on before more
   * UPDATEs are read, else undefined. The peers' sockets stay paused meanwhile, as BIRD's would while its
   * kernel protocol writes.
   */
  backpressure?: () => Promise<void> | undefined;
  /** RFC 4456 §7 cluster id; defaults to routerId when some peer is a client */
  clusterId?: string;
  /** RFC 4724: restart time we advertise, and how long we keep a restarting peer's routes at most */
  gracefulRestartTime?: number;
  /**
   * RFC 4724 §3 F bit: claim that our forwarding state survives our own restart, so peers keep our
   * routes until our End-of-RIB. Only true when the FIB is left in place across restarts (default false).
   */
  preserveForwarding?: boolean;
  /**
   * RFC 4724 §4.1: this speaker comes back from a restart (the agent's restart marker): the first OPEN to
   * each peer carries the Restart State (R) bit
   */
  restarted?: boolean;
  /**
   * RFC 8538: advertise the N bit, so that with a peer that does too a NOTIFICATION other than Hard Reset
   * (a hold-timer expiry, an admin reset) keeps the routes as a graceful restart. Off by default: a frozen
   * peer's routes would then stay for the restart time instead of going at the hold time.
   */
  notificationRestart?: boolean;
  /** seconds in Idle after an error before retrying (default 2) */
  idleHoldTime?: number;
  /**
   * ECMP: the most equal-cost paths per prefix in the Loc-RIB's multipath set, handed to onBestChange on
   * the best route (default 1: the best path only). Peers are still sent the best path alone.
   */
  maxPaths?: number;
  /**
   * RFC 4724 §4.1: we come back from a restart with forwarding state kept: each family's route selection
   * waits for the peers' End-of-RIB (see selection-deferral.ts), at most this many seconds (the
   * Selection_Deferral_Timer). Until then its best routes reach neither onBestChange nor the peers.
   */
  selectionDeferral?: number;
  /** a deferred family's selection is done: take its best routes whole (bestRoutesIter), e.g. one FIB reconcile */
  onSelectionDone?: (afi: Afi, why: SelectionEnd) => void;
}

/** the largest multipath set: far more than a node has uplinks, and it bounds one kernel route's size */
export const MAX_PATHS_LIMIT = 64;

const isAsn = (n: unknown): n is number => Number.isInteger(n) && (n as number) > 0 && (n as number) <= 0xffffffff;

export function validateSpeaker(o: SpeakerOptions): void {
  if (!isAsn(o.asn)) throw new ConfigError('asn', `must be 1..4294967295, got ${o.asn}`);
  if (!net.isIPv4(o.routerId) || o.routerId === '0.0.0.0') throw new ConfigError('routerId', `must be a non-zero IPv4 address, got ${o.routerId}`);
  if (o.clusterId !== undefined && !net.isIPv4(o.clusterId)) throw new ConfigError('clusterId', 'must be an IPv4 address');
  if (o.maxPaths !== undefined && (!Number.isInteger(o.maxPaths) || o.maxPaths < 1 || o.maxPaths > MAX_PATHS_LIMIT)) throw new ConfigError('maxPaths', `must be 1..${MAX_PATHS_LIMIT}, got ${o.maxPaths}`);
  if (o.selectionDeferral !== undefined && !(o.selectionDeferral > 0 && Number.isFinite(o.selectionDeferral))) throw new ConfigError('selectionDeferral', `must be seconds > 0, got ${o.selectionDeferral}`);
  o.originate.forEach((p, i) => { try { normalizePrefix(p); } catch { throw new ConfigError(`originate[${i}]`, `bad prefix ${p}`); } });
  o.peers.forEach((p, i) => validatePeer(p, `peers[${i}]`));
}

export function validatePeer(p: PeerConfig, field = 'peer'): void {
  if (!net.isIP(p.address)) throw new ConfigError(`${field}.address`, `not an IP address: ${p.address}`);
  if (!isAsn(p.asn)) throw new ConfigError(`${field}.asn`, `must be 1..4294967295, got ${p.asn}`);
  const h = p.holdTime ?? 90;
  // RFC 4271 §4.2: zero or at least three seconds
  if (!Number.isInteger(h) || h < 0 || h > 0xffff || h === 1 || h === 2) throw new ConfigError(`${field}.holdTime`, `must be 0 or 3..65535, got ${h}`);
  if (p.maxPrefixes !== undefined && (!Number.isInteger(p.maxPrefixes) || p.maxPrefixes < 1 || p.maxPrefixes > 0xffffffff)) throw new ConfigError(`${field}.maxPrefixes`, `must be 1..4294967295, got ${p.maxPrefixes}`);
  if (p.maxPrefixRestartTime !== undefined && (!(p.maxPrefixRestartTime >= 0) || !Number.isFinite(p.maxPrefixRestartTime))) throw new ConfigError(`${field}.maxPrefixRestartTime`, `must be seconds >= 0, got ${p.maxPrefixRestartTime}`);
  for (const k of ['importPolicy', 'exportPolicy'] as const) {
    const pol = p[k];
    if (pol) try { validatePolicy(pol); } catch (e) { throw new ConfigError(`${field}.${k}`, (e as Error).message); }
  }
}
