// Who owns a set of rules: one container's attachment to one network. Its tag goes into rule comments;
// its chain names are derived from a hash because nft names must be short and of a fixed alphabet.
import { createHash } from 'node:crypto';

export interface Owner { network: string; containerId: string; ifname: string }

/** kind keeps the rules of different plugins for the same attachment apart (bridge masq vs portmap). */
export function ownerTag(kind: 'masq' | 'portmap' | 'macspoof', o: Owner): string {
  // names and ids are already restricted by the skel to [A-Za-z0-9_.-]; ifname cannot hold / : or spaces
  return `berth ${kind} ${o.network} ${o.containerId} ${o.ifname}`.replace(/[^A-Za-z0-9_.:/ -]/g, '_');
}

export function ownerChain(prefix: 'masq' | 'dnat' | 'snat' | 'mac', o: Owner): string {
  const h = createHash('sha256').update(`${o.network}\0${o.containerId}\0${o.ifname}`).digest('hex').slice(0, 16);
  return `${prefix}-${h}`;
}
