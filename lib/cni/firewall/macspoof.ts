// macspoofchk: frames entering the bridge from a container's host veth must carry the container's MAC.
// A bridge-family table sees frames before bridging; one owner chain per attachment, as in table.ts.
import { nftApply, nftListTable, quote } from './nft';
import { Owner, ownerChain, ownerTag } from './owner';

const T = 'bridge berth';

function drop(owner: Owner): string {
  const snap = nftListTable('bridge', 'berth');
  if (!snap) return '';
  const tag = ownerTag('macspoof', owner);
  const chain = ownerChain('mac', owner);
  let s = (snap.get('prerouting') ?? []).filter((r) => r.comment === tag).map((r) => `delete rule ${T} prerouting handle ${r.handle}\n`).join('');
  if (snap.has(chain)) s += `flush chain ${T} ${chain}\ndelete chain ${T} ${chain}\n`;
  return s;
}

export function setupMacspoof(owner: Owner, hostVeth: string, mac: string): void {
  const chain = ownerChain('mac', owner);
  nftApply(`add table ${T}\nadd chain ${T} prerouting { type filter hook prerouting priority -300; policy accept; }\n` +
    drop(owner) + `add chain ${T} ${chain}\n` +
    `add rule ${T} prerouting iifname ${quote(hostVeth)} jump ${chain} comment ${quote(ownerTag('macspoof', owner))}\n` +
    `add rule ${T} ${chain} ether saddr != ${mac} drop\n`);
}

export function teardownMacspoof(owner: Owner): void {
  const s = drop(owner);
  if (s) nftApply(s);
}
