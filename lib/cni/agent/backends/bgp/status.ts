// What the BGP backend writes under the agent's run dir for `berth bgp peers|routes` (types only, so the
// CLI loads nothing of the speaker).
import type { FibError, PeerStatus } from '../../../bgp';

export const BGP_STATUS_FILE = 'bgp.json';
/** the Loc-RIB and Adj-RIBs-In (all routes, best marked), rewritten when it changes */
export const BGP_ROUTES_FILE = 'bgp-routes.json';

export interface BgpStatusFile {
  pid: number;
  asn: number;
  routerId: string;
  updatedAt: string;
  peers: PeerStatus[];
  fibErrors: FibError[];
}
