// The one table berth owns and its base chains. Every rule berth adds lives in a per-owner chain that a
// base chain jumps to with a rule commented with the owner's tag: removing an owner deletes exactly its
// jump rules (found by comment) and its chains, and never touches anything else.
import { nftListChain, NftRule, quote } from './nft';

export const FAMILY = 'inet';
export const TABLE = 'berth';

export type BaseChain = 'prerouting' | 'output' | 'postrouting';

// NAT base chains at the standard priorities: dstnat for DNAT, srcnat for masquerade
const BASE: Record<BaseChain, string> = {
  prerouting: 'type nat hook prerouting priority dstnat; policy accept;',
  output: 'type nat hook output priority -100; policy accept;',
  postrouting: 'type nat hook postrouting priority srcnat; policy accept;',
};

/** Script lines that create the table and base chains if missing ("add" is idempotent in nft). */
export function ensureBase(): string {
  return [
    `add table ${FAMILY} ${TABLE}`,
    ...Object.entries(BASE).map(([name, spec]) => `add chain ${FAMILY} ${TABLE} ${name} { ${spec} }`),
  ].join('\n') + '\n';
}

/** Script lines that (re)create an empty owner chain. */
export function freshChain(chain: string): string {
  return `add chain ${FAMILY} ${TABLE} ${chain}\nflush chain ${FAMILY} ${TABLE} ${chain}\n`;
}

/** Script lines that delete a chain whether or not it exists (add first, so delete cannot fail). */
export function dropChain(chain: string): string {
  return `add chain ${FAMILY} ${TABLE} ${chain}\nflush chain ${FAMILY} ${TABLE} ${chain}\ndelete chain ${FAMILY} ${TABLE} ${chain}\n`;
}

export function rule(chain: string, body: string, comment?: string): string {
  return `add rule ${FAMILY} ${TABLE} ${chain} ${body}${comment ? ` comment ${quote(comment)}` : ''}\n`;
}

export function ourRules(base: BaseChain, tag: string): NftRule[] {
  return nftListChain(FAMILY, TABLE, base).filter((r) => r.comment === tag);
}

/** Script lines that delete the jump rules in `base` tagged `tag`. */
export function dropTagged(base: BaseChain, tag: string): string {
  return ourRules(base, tag).map((r) => `delete rule ${FAMILY} ${TABLE} ${base} handle ${r.handle}\n`).join('');
}
