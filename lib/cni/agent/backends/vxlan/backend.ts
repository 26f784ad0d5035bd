// The VXLAN backend: one VXLAN device per node (learning off, local VTEP on the underlay, MTU = underlay
// MTU - 50) and, per remote node, the route / neighbour / FDB triple planned by plan.ts. With
// DirectRouting (flannel's option) a node on our underlay subnet gets a plain route via its underlay
// address instead (no encapsulation), and only the others go over VXLAN. Each reconcile reads the kernel
// and changes only what differs, so it repairs hand-made damage and a restart of the agent changes
// nothing that is already right.
import * as net from '../../../net';
import type { Backend, Published, ReconcileReport } from '../backend';
import type { Lease } from '../../store/types';
import { subnetAddrs } from '../../subnets';
import { onSubnet, readUnderlay, type Underlay } from '../underlay';
import { removeDirect, syncDirect } from '../direct-routes';
import { VxlanDevice } from './device';
import { describeOp, Peer, planVxlan } from './plan';

export { VXLAN_OVERHEAD } from './device';
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
  /** flannel's DirectRouting: nodes on our underlay subnet are routed to directly, not over VXLAN */
  directRouting?: boolean;
}

export function vxlanDeviceName(vni: number): string {
  return `berth.${vni}`;
}

export class VxlanBackend implements Backend {
  readonly name = 'vxlan' as const;
  private readonly dev: VxlanDevice;

  constructor(private readonly nl: net.Rtnl, private readonly o: VxlanOptions) {
    this.dev = new VxlanDevice(nl, { name: o.device ?? vxlanDeviceName(o.vni), vni: o.vni, port: o.port });
  }

  private async ensure(localSubnet: string | undefined, changes: string[]): Promise<{ link: net.Link; u: Underlay }> {
    const u = await readUnderlay(this.nl, this.o.iface, this.o.publicIp);
    // flannel's addressing: the subnet's network address /32 on the device, the source for node-to-pod traffic
    const link = await this.dev.ensure(u, localSubnet ? `${subnetAddrs(localSubnet).network}/32` : undefined, changes);
    return { link, u };
  }

  private published(link: net.Link, u: Underlay): Published {
    return { publicIp: u.ip, vtepMac: link.mac, mtu: this.dev.spec(u).mtu };
  }

  async prepare(localSubnet?: string): Promise<Published> {
    // this node routes between its bridge and the overlay
    net.writeSysctl('net.ipv4.ip_forward', '1');
    const { link, u } = await this.ensure(localSubnet, []);
    return this.published(link, u);
  }

  async reconcile(own: Lease, all: Lease[]): Promise<ReconcileReport> {
    const changes: string[] = [];
    const { link, u } = await this.ensure(own.subnet, changes);
    const remote = all.filter((l) => l.node !== own.node && l.backend === 'vxlan' && l.vtepMac && l.publicIp);
    const direct = this.o.directRouting ? remote.filter((l) => onSubnet(u, l.publicIp)) : [];
    const peers: Peer[] = remote
      .filter((l) => !direct.includes(l))
      .map((l) => ({ node: l.node, subnet: l.subnet, gw: subnetAddrs(l.subnet).network, vtepMac: l.vtepMac, publicIp: l.publicIp }));
    // the VXLAN entries of nodes that became direct go first, so their direct route is the only one left
    for (const op of planVxlan(peers, await this.dev.current(link.index))) {
      await this.dev.apply(link.index, op);
      changes.push(describeOp(op));
    }
    if (this.o.directRouting) changes.push(...(await syncDirect(this.nl, direct.map((l) => ({ dst: l.subnet, gw: l.publicIp })), u)));
    return { changes, published: this.published(link, u), peers: remote.map((p) => p.node) };
  }

  async close(restart = false): Promise<void> {
    // a restart keeps everything (forwarding goes on); a node that leaves takes its device and routes away
    if (!restart) {
      await this.dev.remove().catch(() => undefined);
      await removeDirect(this.nl).catch(() => undefined);
    }
    this.nl.close();
  }
}
