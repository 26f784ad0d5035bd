// The VXLAN backend: one VXLAN device per node (learning off, local VTEP on the underlay, MTU = underlay
// MTU - 50) and, per remote node, the route / neighbour / FDB triple planned by vxlan-plan.ts. Each
// reconcile reads the kernel and changes only what differs, so it repairs hand-made damage and a restart
// of the agent changes nothing that is already right.
import * as net from '../../../net';
import { BerthError } from '../../../../util/errors';
import type { Backend, Published, ReconcileReport } from '../backend';
import type { Lease } from '../../store/types';
import { subnetAddrs } from '../../subnets';
import { ensureOnlyAddr, ensureVxlan, VxlanSpec } from './link';
import { describeOp, KernelState, Op, Peer, planVxlan } from './plan';

/** VXLAN over IPv4: 20 (outer IP) + 8 (UDP) + 8 (VXLAN) + 14 (inner Ethernet). */
export const VXLAN_OVERHEAD = 50;
export const DEFAULT_VXLAN_PORT = 4789;

export interface VxlanOptions {
  vni: number;
  port: number;
  /** underlay interface name */
  iface: string;
  /** underlay address to publish and to send from; default: the interface's first IPv4 address */
  publicIp?: string;
  /** device name; default berth.<vni> (flannel's flannel.<vni>) */
  device?: string;
}

export function vxlanDeviceName(vni: number): string {
  return `berth.${vni}`;
}

export class VxlanBackend implements Backend {
  readonly name = 'vxlan' as const;
  private readonly device: string;

  constructor(private readonly nl: net.Rtnl, private readonly o: VxlanOptions) {
    this.device = o.device ?? vxlanDeviceName(o.vni);
  }

  private async spec(): Promise<VxlanSpec> {
    const under = await net.getLink(this.nl, this.o.iface);
    if (!under) throw new BerthError(`underlay interface ${this.o.iface} does not exist`, { field: '--iface' });
    let local = this.o.publicIp;
    if (!local) {
      const a = (await net.listAddrs(this.nl, { index: under.index, family: 4 })).find((x) => x.scope === 0);
      if (!a) throw new BerthError(`underlay interface ${this.o.iface} has no IPv4 address`, { field: '--iface' });
      local = a.ip;
    }
    return { name: this.device, vni: this.o.vni, port: this.o.port, local, dev: under.index, mtu: under.mtu - VXLAN_OVERHEAD };
  }

  private async ensure(localSubnet: string | undefined, changes: string[]): Promise<{ link: net.Link; spec: VxlanSpec }> {
    const spec = await this.spec();
    const r = await ensureVxlan(this.nl, spec);
    changes.push(...r.changes);
    // flannel's addressing: the subnet's network address /32 on the device, the source for node-to-pod traffic
    if (localSubnet) changes.push(...(await ensureOnlyAddr(this.nl, r.link.index, `${subnetAddrs(localSubnet).network}/32`)));
    return { link: r.link, spec };
  }

  async prepare(localSubnet?: string): Promise<Published> {
    // this node routes between its bridge and the overlay
    net.writeSysctl('net.ipv4.ip_forward', '1');
    const { link, spec } = await this.ensure(localSubnet, []);
    return { publicIp: spec.local, vtepMac: link.mac, mtu: spec.mtu };
  }

  private async current(index: number): Promise<KernelState> {
    const routes = (await net.listRoutes(this.nl, 4)).filter((r) => r.dev === index && r.protocol !== net.RTPROT.KERNEL && r.type === 'unicast');
    const neighs = (await net.listNeigh(this.nl, 4, index)).filter((n) => n.ip && (n.state & 0x80) !== 0).map((n) => ({ ip: n.ip!, mac: n.mac }));
    const fdbs = (await net.listNeigh(this.nl, 'bridge', index)).filter((f) => f.mac && f.dst).map((f) => ({ mac: f.mac!, dst: f.dst! }));
    return { routes, neighs, fdbs };
  }

  private async apply(index: number, op: Op): Promise<void> {
    switch (op.kind) {
      case 'route-set': return net.replaceRoute(this.nl, { dst: op.dst, gw: op.gw, dev: index, onlink: true });
      case 'route-del': await net.delRoute(this.nl, { dst: op.dst, gw: op.gw, dev: index }); return;
      case 'neigh-set': return net.setNeigh(this.nl, { index, ip: op.ip, mac: op.mac });
      case 'neigh-del': await net.delNeigh(this.nl, { index, ip: op.ip }); return;
      case 'fdb-set': return net.setFdb(this.nl, { index, mac: op.mac, dst: op.dst });
      case 'fdb-del': await net.delFdb(this.nl, { index, mac: op.mac, dst: op.dst }); return;
    }
  }

  async reconcile(own: Lease, all: Lease[]): Promise<ReconcileReport> {
    const changes: string[] = [];
    const { link, spec } = await this.ensure(own.subnet, changes);
    const peers: Peer[] = all
      .filter((l) => l.node !== own.node && l.backend === 'vxlan' && l.vtepMac && l.publicIp)
      .map((l) => ({ node: l.node, subnet: l.subnet, gw: subnetAddrs(l.subnet).network, vtepMac: l.vtepMac, publicIp: l.publicIp }));
    const ops = planVxlan(peers, await this.current(link.index));
    for (const op of ops) {
      await this.apply(link.index, op);
      changes.push(describeOp(op));
    }
    return { changes, published: { publicIp: spec.local, vtepMac: link.mac, mtu: spec.mtu }, peers: peers.map((p) => p.node) };
  }

  close(): void {
    this.nl.close();
  }
}
