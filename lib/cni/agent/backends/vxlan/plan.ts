// What the kernel must change so a node's VXLAN forwarding matches the store (flannel's model): per remote
// node exactly one route (its subnet via its subnet's network address, onlink, on the VXLAN device), one
// permanent neighbour entry (that address -> the remote VTEP MAC) and one permanent FDB entry (that MAC ->
// the remote underlay address). A pure function of desired and current state, so it is unit-tested.

export interface Peer {
  node: string;
  subnet: string;
  /** the remote subnet's network address: route gateway and neighbour IP */
  gw: string;
  vtepMac: string;
  publicIp: string;
}

export interface KernelState {
  routes: { dst: string; gw?: string; onlink?: boolean }[];
  neighs: { ip: string; mac?: string }[];
  fdbs: { mac: string; dst: string }[];
}

export type Op =
  | { kind: 'route-set'; dst: string; gw: string }
  | { kind: 'route-del'; dst: string; gw?: string }
  | { kind: 'neigh-set'; ip: string; mac: string }
  | { kind: 'neigh-del'; ip: string }
  | { kind: 'fdb-set'; mac: string; dst: string }
  | { kind: 'fdb-del'; mac: string; dst: string };

/** Removals first: a peer whose MAC changed loses its stale FDB entry before the new one goes in. */
export function planVxlan(peers: Peer[], cur: KernelState): Op[] {
  const dels: Op[] = [];
  const sets: Op[] = [];
  const mac = (m: string): string => m.toLowerCase();
  const routeBy = new Map(peers.map((p) => [p.subnet, p]));
  for (const r of cur.routes) if (!routeBy.has(r.dst)) dels.push({ kind: 'route-del', dst: r.dst, gw: r.gw });
  for (const p of peers) {
    const r = cur.routes.find((x) => x.dst === p.subnet);
    if (!r || r.gw !== p.gw || !r.onlink) sets.push({ kind: 'route-set', dst: p.subnet, gw: p.gw });
  }
  const neighBy = new Map(peers.map((p) => [p.gw, p]));
  for (const n of cur.neighs) if (!neighBy.has(n.ip)) dels.push({ kind: 'neigh-del', ip: n.ip });
  for (const p of peers) {
    const n = cur.neighs.find((x) => x.ip === p.gw);
    if (!n || mac(n.mac ?? '') !== mac(p.vtepMac)) sets.push({ kind: 'neigh-set', ip: p.gw, mac: mac(p.vtepMac) });
  }
  const fdbKey = (m: string, d: string): string => `${mac(m)} ${d}`;
  const wantFdb = new Set(peers.map((p) => fdbKey(p.vtepMac, p.publicIp)));
  const haveFdb = new Set(cur.fdbs.map((f) => fdbKey(f.mac, f.dst)));
  for (const f of cur.fdbs) if (!wantFdb.has(fdbKey(f.mac, f.dst))) dels.push({ kind: 'fdb-del', mac: mac(f.mac), dst: f.dst });
  for (const p of peers) if (!haveFdb.has(fdbKey(p.vtepMac, p.publicIp))) sets.push({ kind: 'fdb-set', mac: mac(p.vtepMac), dst: p.publicIp });
  return [...dels, ...sets];
}

export function describeOp(op: Op): string {
  switch (op.kind) {
    case 'route-set': return `route ${op.dst} via ${op.gw} onlink`;
    case 'route-del': return `del route ${op.dst}`;
    case 'neigh-set': return `neigh ${op.ip} lladdr ${op.mac}`;
    case 'neigh-del': return `del neigh ${op.ip}`;
    case 'fdb-set': return `fdb ${op.mac} dst ${op.dst}`;
    case 'fdb-del': return `del fdb ${op.mac} dst ${op.dst}`;
  }
}
