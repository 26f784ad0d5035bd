// Routes straight over the underlay: each listed node's subnet via that node's underlay address, on the
// underlay interface (flannel's host-gw, and the same-subnet half of VXLAN DirectRouting). They carry
// their own protocol number, so the agent finds exactly its own routes again and never touches another's.
import * as net from '../../net';

/** protocol id of these routes (unassigned in iproute2's rt_protos); `ip route show proto 199` */
export const RTPROT_BERTH_DIRECT = 199;

export interface DirectRoute { dst: string; gw: string }

export type DirectOp = { kind: 'set'; dst: string; gw: string } | { kind: 'del'; dst: string };

/** What to change so our routes on the underlay are exactly `want`. Pure, so it is unit-tested. */
export function planDirect(want: DirectRoute[], have: { dst: string; gw?: string; dev?: number }[], dev: number): DirectOp[] {
  const ops: DirectOp[] = [];
  const wanted = new Map(want.map((r) => [r.dst, r.gw]));
  for (const r of have) if (!wanted.has(r.dst)) ops.push({ kind: 'del', dst: r.dst });
  for (const r of want) {
    const h = have.find((x) => x.dst === r.dst);
    if (!h || h.gw !== r.gw || h.dev !== dev) ops.push({ kind: 'set', dst: r.dst, gw: r.gw });
  }
  return ops;
}

export function describeDirect(op: DirectOp, devName: string): string {
  return op.kind === 'set' ? `route ${op.dst} via ${op.gw} dev ${devName}` : `del route ${op.dst}`;
}

/** Our direct routes in the main table. */
export async function listDirect(nl: net.Rtnl): Promise<net.RouteEntry[]> {
  return (await net.listRoutes(nl, 4)).filter((r) => r.protocol === RTPROT_BERTH_DIRECT && r.type === 'unicast');
}

/** Makes our direct routes exactly `want` on the interface `dev`; one line per change. */
export async function syncDirect(nl: net.Rtnl, want: DirectRoute[], dev: { index: number; name: string }): Promise<string[]> {
  const ops = planDirect(want, await listDirect(nl), dev.index);
  for (const op of ops) {
    if (op.kind === 'del') await net.delRoute(nl, { dst: op.dst, protocol: RTPROT_BERTH_DIRECT });
    else await net.replaceRoute(nl, { dst: op.dst, gw: op.gw, dev: dev.index, protocol: RTPROT_BERTH_DIRECT });
  }
  return ops.map((op) => describeDirect(op, dev.name));
}

/** Removes every direct route of ours (the node leaves). */
export async function removeDirect(nl: net.Rtnl): Promise<void> {
  for (const r of await listDirect(nl)) await net.delRoute(nl, { dst: r.dst, protocol: RTPROT_BERTH_DIRECT });
}
