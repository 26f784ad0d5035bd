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

export interface NftRule { chain: string; handle: number; comment?: string; expr: unknown[] }

/** The rules of one chain with their handles; [] when the table or chain does not exist. */
export function nftListChain(family: string, table: string, chain: string): NftRule[] {
  const r = spawnSync(NFT, ['-j', '-a', 'list', 'chain', family, table, chain], { encoding: 'utf8' });
  if (r.error) throw new FirewallError(`cannot run nft: ${r.error.message}`);
  if (r.status !== 0) {
    if (/No such file or directory/.test(r.stderr)) return [];
    throw new FirewallError(`nft list chain ${chain}: ${r.stderr.trim()}`);
  }
  const items = (JSON.parse(r.stdout) as { nftables: Record<string, unknown>[] }).nftables;
  return items.filter((i) => 'rule' in i).map((i) => i.rule as NftRule);
}

/** Names of the chains in a table; [] when the table does not exist. */
export function nftListChains(family: string, table: string): string[] {
  const r = spawnSync(NFT, ['-j', 'list', 'table', family, table], { encoding: 'utf8' });
  if (r.status !== 0) return [];
  const items = (JSON.parse(r.stdout) as { nftables: Record<string, unknown>[] }).nftables;
  return items.filter((i) => 'chain' in i).map((i) => (i.chain as { name: string }).name);
}

/** nft string literal: comments are the only free text we write, and we control their alphabet anyway. */
export function quote(s: string): string {
  if (!/^[A-Za-z0-9_.:/ -]*$/.test(s)) throw new FirewallError(`refusing to put "${s}" in an nft rule`);
  return `"${s}"`;
}
