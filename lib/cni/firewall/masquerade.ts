// Masquerade (ipMasq): traffic from a container address to anywhere outside its own subnet leaves with
// the node's address. One owner chain per attachment; postrouting jumps to it for the container's source.
import { cidrString, networkOf, parseCidr } from '../net/ip';
import { nftApply, nftListChain } from './nft';
import { Owner, ownerChain, ownerTag } from './owner';
import { dropChain, dropTagged, ensureBase, FAMILY, freshChain, rule, TABLE } from './table';

/** Container address with its prefix, e.g. "10.22.0.5/24": the prefix says what stays unmasqueraded. */
export type MasqSource = string;

function body(chain: string, sources: MasqSource[], tag: string): string {
  let s = '';
  for (const src of sources) {
    const c = parseCidr(src);
    const ipk = c.family === 4 ? 'ip' : 'ip6';
    const mcast = c.family === 4 ? '224.0.0.0/4' : 'ff00::/8';
    s += rule('postrouting', `${ipk} saddr ${c.ip} jump ${chain}`, tag);
    s += rule(chain, `${ipk} saddr ${c.ip} ${ipk} daddr != ${cidrString(networkOf(c))} ${ipk} daddr != ${mcast} masquerade`);
  }
  return s;
}

/** Installs (or re-installs, replacing what this owner had) the masquerade rules. */
export function setupMasquerade(owner: Owner, sources: MasqSource[]): void {
  const chain = ownerChain('masq', owner);
  const tag = ownerTag('masq', owner);
  nftApply(ensureBase() + dropTagged('postrouting', tag) + freshChain(chain) + body(chain, sources, tag));
}

/** Removes exactly this owner's masquerade rules; nothing to remove is fine. */
export function teardownMasquerade(owner: Owner): void {
  const tag = ownerTag('masq', owner);
  nftApply(ensureBase() + dropTagged('postrouting', tag) + dropChain(ownerChain('masq', owner)));
}

/** Whether the owner's rules are installed for exactly these sources; the reason when not. */
export function checkMasquerade(owner: Owner, sources: MasqSource[]): string | undefined {
  const chain = ownerChain('masq', owner);
  const tag = ownerTag('masq', owner);
  const jumps = nftListChain(FAMILY, TABLE, 'postrouting').filter((r) => r.comment === tag);
  const rules = nftListChain(FAMILY, TABLE, chain);
  if (jumps.length !== sources.length) return `expected ${sources.length} masquerade jump rule(s) for ${tag}, found ${jumps.length}`;
  if (rules.length !== sources.length) return `masquerade chain ${chain} has ${rules.length} rule(s), expected ${sources.length}`;
  return undefined;
}
