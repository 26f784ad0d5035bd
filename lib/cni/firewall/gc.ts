// GC (CNI 1.1): remove the rules of attachments the runtime no longer knows. Owners are recovered from
// the jump rules' comments ("berth <kind> <network> <containerId> <ifname>").
import { nftApply } from './nft';
import { Owner, ownerChain, ownerTag } from './owner';
import { dropOwner, ownerTags, snapshot } from './table';

const CHAINS = { masq: ['masq'], portmap: ['dnat', 'snat'] } as const;

/** Removes every `kind` owner of `network` not in `keep`; returns how many were removed. */
export function gcOwners(kind: 'masq' | 'portmap', network: string, keep: { containerID: string; ifname: string }[]): number {
  const snap = snapshot();
  if (!snap) return 0;
  const valid = new Set(keep.map((a) => ownerTag(kind, { network, containerId: a.containerID, ifname: a.ifname })));
  let script = '';
  let removed = 0;
  for (const tag of ownerTags(snap)) {
    const [berth, k, net, containerId, ifname] = tag.split(' ');
    if (berth !== 'berth' || k !== kind || net !== network || !containerId || !ifname || valid.has(tag)) continue;
    const owner: Owner = { network, containerId, ifname };
    script += dropOwner(snap, tag, CHAINS[kind].map((p) => ownerChain(p, owner)));
    removed++;
  }
  if (script) nftApply(script);
  return removed;
}
