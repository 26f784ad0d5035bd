// What the BGP backend writes under the agent's run dir for `berth bgp peers|routes` (types only, so the
// CLI loads nothing of the speaker).
import type { FamilyDeferral, FibError, FsmState } from '../../../bgp';

/** a small summary, O(peers), rewritten every tick; routes are asked over the control socket */
export const BGP_STATUS_FILE = 'bgp.json';

export interface BgpStatusFile {
  pid: number;
  asn: number;
  routerId: string;
  updatedAt: string;
  peers: { address: string; state: FsmState; since: string; gracefulRestart: boolean }[];
  fibErrors: FibError[];
  /** RFC 4724 §4.1: after a restart, the families whose route selection still waits, for whom, how long */
  selectionDeferred?: FamilyDeferral[];
}
