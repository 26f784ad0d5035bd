// The firewall layer: NAT rules owned per network attachment and removed exactly.
//
// Choice: nftables, through the `nft` command (one atomic `nft -f -` transaction per change).
// Why:
// - ownership: berth keeps everything in its own table (`inet berth`); each attachment gets its own
//   chains plus jump rules tagged with a comment, so DEL deletes exactly those and can never remove a
//   rule someone else wrote, and `nft delete table inet berth` undoes berth entirely;
// - atomicity: a whole ADD (base chains, owner chains, jumps) applies or fails as one transaction, so a
//   failed ADD leaves nothing half-made; iptables needs one process per rule and cannot roll back;
// - one table serves IPv4 and IPv6 (inet family), where iptables needs iptables and ip6tables;
// - coexistence: the machine's iptables is iptables-nft, so rules written by other tools (the reference
//   plugins, Docker) sit in their own nf_tables tables; NAT hooks of all tables run, by priority.
// Cost: one `nft` process per transaction, one more to list handles when removing.
export { Owner, ownerTag, ownerChain } from './owner';
export { setupMasquerade, teardownMasquerade, checkMasquerade } from './masquerade';
export { setupPortmap, teardownPortmap, checkPortmap, PortMapping, PortmapOptions, Protocol } from './portmap';
export { setupMacspoof, teardownMacspoof } from './macspoof';
export { FirewallError } from './nft';
export { FAMILY, TABLE } from './table';
export { gcOwners } from './gc';
