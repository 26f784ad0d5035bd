// gobgpd's TOML config for lab and test peers: one global section and its neighbours, with short timers
// (hold 9 s, connect retry 2 s, 1 s idle after a NOTIFICATION instead of GoBGP's 30 s).
export interface GobgpNeighbor {
  address: string;
  asn: number;
  /** GoBGP afi-safi names; GoBGP's default (IPv4 unicast) when absent */
  families?: string[];
}

export function gobgpdToml(o: { asn: number; routerId: string; localAddress: string; neighbors: GobgpNeighbor[] }): string {
  const neighbor = (n: GobgpNeighbor): string => `
[[neighbors]]
  [neighbors.config]
    neighbor-address = "${n.address}"
    peer-as = ${n.asn}
  [neighbors.timers.config]
    hold-time = 9
    connect-retry = 2
    idle-hold-time-after-reset = 1
${(n.families ?? []).map((f) => `  [[neighbors.afi-safis]]\n    [neighbors.afi-safis.config]\n      afi-safi-name = "${f}"\n`).join('')}`;
  return `
[global.config]
  as = ${o.asn}
  router-id = "${o.routerId}"
  port = 179
  local-address-list = ["${o.localAddress}"]
${o.neighbors.map(neighbor).join('')}`;
}
