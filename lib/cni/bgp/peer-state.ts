// What the speaker keeps about each configured neighbour: its own module so that the speaker and the
// status view (status.ts) both read it without importing each other.
import type { Afi } from './codec/constants';
import type { Session } from './session';
import type { AdjRibOut } from './export';
import type { RouteSource } from './route';
import type { PeerConfig } from './speaker-config';

/** Everything the speaker keeps about one configured neighbour. */
export interface PeerState {
  id: string;
  config: PeerConfig;
  internal: boolean;
  session: Session;
  /** a second, incoming connection while `session` is still opening (RFC 4271 §6.8) */
  pending?: Session;
  adjOut: AdjRibOut;
  /** set while Established */
  source?: RouteSource;
  since: number;
  lastError?: string;
  /** RFC 4724: the peer is restarting; its routes are stale until this timer or End-of-RIB */
  grTimer?: NodeJS.Timeout;
  staleFamilies: Set<Afi>;
  /** RFC 7313 §4.2: families between the peer's BoRR and EoRR */
  refreshStale: Set<Afi>;
  updatesIn: number;
  updatesOut: number;
  /** RFC 4486: set while the session is held down after max-prefix; it reconnects when this fires */
  maxPrefixTimer?: NodeJS.Timeout;
}
