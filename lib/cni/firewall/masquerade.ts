// Masquerade (ipMasq): traffic from a container address to anywhere outside its own subnet leaves with
// the node's address. One owner chain per attachment; postrouting jumps to it for the container's source.
import { cidrString, networkOf, parseCidr } from '../../util/ip-address';
import { nftApply } from './nft';
import { Owner, ownerChain, ownerTag } from './owner';
import { dropOwner, ensureBase, freshChain, rule, snapshot, taggedRules } from './table';

/** Container address with its prefix, e.g. "10.22.0.5/24": the prefix says what stays unmasqueraded. */
export type MasqSource = string;

/** Installs (or re-installs, replacing what this owner had) the masquerade rules. */
export function setupMasquerade(owner: Owner, sources: MasqSource[]): void {
  const chain = ownerChain('masq', owner);
  const tag = ownerTag('masq', owner);
  let s = ensureBase() + dropOwner(snapshot(), tag, []) + freshChain(chain);
  for (const src of sources) {
    const c = parseCidr(src);
    const ipk = c.family === 4 ? 'ip' : 'ip6';
    const mcast = c.family === 4 ? '224.0.0.0/4' : 'ff00::/8';
    s += rule('postrouting', `${ipk} saddr ${c.ip} jump ${chain}`, tag);
    s += rule(chain, `${ipk} saddr ${c.ip} ${ipk} daddr != ${cidrString(networkOf(c))} ${ipk} daddr != ${mcast} masquerade`);
  }
  nftApply(s);
}

/** Removes exactly this owner's masquerade rules; nothing to remove is fine (and costs no change). */
export function teardownMasquerade(owner: Owner): void {
  const s = dropOwner(snapshot(), ownerTag('masq', owner), [ownerChain('masq', owner)]);
  if (s) nftApply(s);
}

/** Whether the owner's rules are installed for these sources; the reason when not. */
export function checkMasquerade(owner: Owner, sources: MasqSource[]): string | undefined {
  const snap = snapshot();
  const chain = ownerChain('masq', owner);
  const tag = ownerTag('masq', owner);
  const jumps = taggedRules(snap, 'postrouting', tag);
  const rules = snap?.get(chain)?.length ?? 0;
  if (jumps !== sources.length) return `expected ${sources.length} masquerade jump rule(s) for ${tag}, found ${jumps}`;
  if (rules !== sources.length) return `masquerade chain ${chain} has ${rules} rule(s), expected ${sources.length}`;
  return undefined;
}
