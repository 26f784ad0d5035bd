// Running nft: one atomic transaction per call (nft -f -), and JSON listings to find our rules.
import { spawnSync } from 'node:child_process';

export class FirewallError extends Error {
  constructor(message: string, readonly script?: string) {
    super(message);
    this.name = 'FirewallError';
  }
}

const NFT = process.env.BERTH_NFT ?? 'nft';

/** Applies a script as one transaction: either all of it takes effect or none. */
export function nftApply(script: string): void {
  const r = spawnSync(NFT, ['-f', '-'], { input: script, encoding: 'utf8' });
  if (r.error) throw new FirewallError(`cannot run nft: ${r.error.message}`);
  if (r.status !== 0) throw new FirewallError(`nft: ${r.stderr.trim().split('\n')[0]}`, script);
}

export interface NftRule { chain: string; handle: number; comment?: string }

/** One listing of a table: each chain's rules with their handles. */
export type TableSnapshot = Map<string, NftRule[]>;

/** Lists a whole table in one nft call; undefined when the table does not exist. */
export function nftListTable(family: string, table: string): TableSnapshot | undefined {
  const r = spawnSync(NFT, ['-j', '-a', 'list', 'table', family, table], { encoding: 'utf8' });
  if (r.error) throw new FirewallError(`cannot run nft: ${r.error.message}`);
  if (r.status !== 0) {
    if (/No such file or directory/.test(r.stderr)) return undefined;
    throw new FirewallError(`nft list table ${family} ${table}: ${r.stderr.trim()}`);
  }
  const snap: TableSnapshot = new Map();
  for (const item of (JSON.parse(r.stdout) as { nftables: Record<string, unknown>[] }).nftables) {
    if ('chain' in item) snap.set((item.chain as { name: string }).name, snap.get((item.chain as { name: string }).name) ?? []);
    if ('rule' in item) {
      const rule = item.rule as NftRule;
      snap.set(rule.chain, [...(snap.get(rule.chain) ?? []), rule]);
    }
  }
  return snap;
}

/** nft string literal: comments are the only free text we write, and we control their alphabet anyway. */
export function quote(s: string): string {
  if (!/^[A-Za-z0-9_.:/ -]*$/.test(s)) throw new FirewallError(`refusing to put "${s}" in an nft rule`);
  return `"${s}"`;
}
