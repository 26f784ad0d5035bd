// The one table berth owns and its base chains. Every rule berth adds lives in a per-owner chain that a
// base chain jumps to with a rule commented with the owner's tag: removing an owner deletes exactly its
// jump rules (found by comment) and its chains, and never touches anything else.
import { nftListTable, quote, TableSnapshot } from './nft';

export const FAMILY = 'inet';
export const TABLE = 'berth';

export type BaseChain = 'prerouting' | 'output' | 'postrouting';

// NAT base chains at the standard priorities: dstnat for DNAT, srcnat for masquerade
const BASE: Record<BaseChain, string> = {
  prerouting: 'type nat hook prerouting priority dstnat; policy accept;',
  output: 'type nat hook output priority -100; policy accept;',
  postrouting: 'type nat hook postrouting priority srcnat; policy accept;',
};

/** The table as it is now (one nft call); undefined when berth never wrote a rule in this netns. */
export function snapshot(): TableSnapshot | undefined {
  return nftListTable(FAMILY, TABLE);
}

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

export function rule(chain: string, body: string, comment?: string): string {
  return `add rule ${FAMILY} ${TABLE} ${chain} ${body}${comment ? ` comment ${quote(comment)}` : ''}\n`;
}

export function taggedRules(snap: TableSnapshot | undefined, base: BaseChain, tag: string): number {
  return (snap?.get(base) ?? []).filter((r) => r.comment === tag).length;
}

/**
 * Script lines that remove an owner: its tagged jump rules in the base chains, then its chains
 * (a chain can only go once nothing jumps to it). Empty when there is nothing to remove.
 */
export function dropOwner(snap: TableSnapshot | undefined, tag: string, chains: string[]): string {
  if (!snap) return '';
  let s = '';
  for (const base of Object.keys(BASE)) {
    for (const r of snap.get(base) ?? []) if (r.comment === tag) s += `delete rule ${FAMILY} ${TABLE} ${base} handle ${r.handle}\n`;
  }
  for (const c of chains) if (snap.has(c)) s += `flush chain ${FAMILY} ${TABLE} ${c}\ndelete chain ${FAMILY} ${TABLE} ${c}\n`;
  return s;
}

/** Tags of the jump rules in the base chains, i.e. the owners that have rules here. */
export function ownerTags(snap: TableSnapshot | undefined): Set<string> {
  const tags = new Set<string>();
  for (const base of Object.keys(BASE)) for (const r of snap?.get(base) ?? []) if (r.comment) tags.add(r.comment);
  return tags;
}
