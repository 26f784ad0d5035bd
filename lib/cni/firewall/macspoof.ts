// macspoofchk: frames entering the bridge from a container's host veth must carry the container's MAC.
// A bridge-family table sees frames before bridging; one owner chain per attachment, as in table.ts.
import { nftApply, nftListChain, quote } from './nft';
import { Owner, ownerChain, ownerTag } from './owner';

const T = 'bridge berth';

function base(): string {
  return `add table ${T}\nadd chain ${T} prerouting { type filter hook prerouting priority -300; policy accept; }\n`;
}

function drop(owner: Owner): string {
  const tag = ownerTag('macspoof', owner);
  const chain = ownerChain('mac', owner);
  const jumps = nftListChain('bridge', 'berth', 'prerouting').filter((r) => r.comment === tag);
  return jumps.map((r) => `delete rule ${T} prerouting handle ${r.handle}\n`).join('') +
    `add chain ${T} ${chain}\nflush chain ${T} ${chain}\ndelete chain ${T} ${chain}\n`;
}

export function setupMacspoof(owner: Owner, hostVeth: string, mac: string): void {
  const tag = ownerTag('macspoof', owner);
  const chain = ownerChain('mac', owner);
  nftApply(base() + drop(owner) + `add chain ${T} ${chain}\n` +
    `add rule ${T} prerouting iifname ${quote(hostVeth)} jump ${chain} comment ${quote(tag)}\n` +
    `add rule ${T} ${chain} ether saddr != ${mac} drop\n`);
}

export function teardownMacspoof(owner: Owner): void {
  nftApply(base() + drop(owner));
}
