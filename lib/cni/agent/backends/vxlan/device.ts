// A node's VXLAN device and the entries on it, shared by the VXLAN backend (flannel's model) and the BGP
// backend's VXLAN encapsulation (Calico's): the device made to match its spec, the kernel's routes,
// neighbours and FDB entries on it read back, and the ops of plan.ts applied.
import * as net from '../../../net';
import { ensureOnlyAddr, ensureVxlan, type VxlanSpec } from './link';
import type { KernelState, Op } from './plan';
import type { Underlay } from '../underlay';

/** VXLAN over IPv4: 20 (outer IP) + 8 (UDP) + 8 (VXLAN) + 14 (inner Ethernet). */
export const VXLAN_OVERHEAD = 50;

export interface VxlanDeviceOptions { name: string; vni: number; port: number }

export class VxlanDevice {
  constructor(private readonly nl: net.Rtnl, readonly o: VxlanDeviceOptions) {}

  spec(u: Underlay): VxlanSpec {
    return { name: this.o.name, vni: this.o.vni, port: this.o.port, local: u.ip, dev: u.index, mtu: u.mtu - VXLAN_OVERHEAD };
  }

  /** The device as `u` needs it; `addr`: exactly this address on it (flannel's subnet network /32). */
  async ensure(u: Underlay, addr: string | undefined, changes: string[]): Promise<net.Link> {
    const r = await ensureVxlan(this.nl, this.spec(u));
    changes.push(...r.changes);
    if (addr) changes.push(...(await ensureOnlyAddr(this.nl, r.link.index, addr)));
    return r.link;
  }

  /** The entries on the device; routes only those `routes` keeps (another owner's may share the device). */
  async current(index: number, routes: (r: net.RouteEntry) => boolean = () => true): Promise<KernelState> {
    const all = (await net.listRoutes(this.nl, 4)).filter((r) => r.dev === index && r.protocol !== net.RTPROT.KERNEL && r.type === 'unicast' && routes(r));
    const neighs = (await net.listNeigh(this.nl, 4, index)).filter((n) => n.ip && (n.state & 0x80) !== 0).map((n) => ({ ip: n.ip!, mac: n.mac }));
    const fdbs = (await net.listNeigh(this.nl, 'bridge', index)).filter((f) => f.mac && f.dst).map((f) => ({ mac: f.mac!, dst: f.dst! }));
    return { routes: all, neighs, fdbs };
  }

  async apply(index: number, op: Op): Promise<void> {
    switch (op.kind) {
      case 'route-set': return net.replaceRoute(this.nl, { dst: op.dst, gw: op.gw, dev: index, onlink: true });
      case 'route-del': await net.delRoute(this.nl, { dst: op.dst, gw: op.gw, dev: index }); return;
      case 'neigh-set': return net.setNeigh(this.nl, { index, ip: op.ip, mac: op.mac });
      case 'neigh-del': await net.delNeigh(this.nl, { index, ip: op.ip }); return;
      case 'fdb-set': return net.setFdb(this.nl, { index, mac: op.mac, dst: op.dst });
      case 'fdb-del': await net.delFdb(this.nl, { index, mac: op.mac, dst: op.dst }); return;
    }
  }

  /** Deletes the device (its routes, neighbours and FDB entries go with it); false when it was not there. */
  remove(): Promise<boolean> {
    return net.deleteLinkByName(this.nl, this.o.name);
  }
}
