// The BGP backend's encapsulation (Calico's ipipMode / vxlanMode): which nodes we tunnel to ("always":
// every node; "cross-subnet": those whose underlay address is off our underlay subnet), the tunnel device,
// and for VXLAN the neighbour and FDB entry per tunnelled node (its underlay address -> its VTEP MAC ->
// its underlay address). The routes themselves are BGP's, shaped by EncapFib.
import * as net from '../../../net';
import type { Lease } from '../../store/types';
import { subnetAddrs } from '../../subnets';
import type { BgpEncap } from './config';
import { onSubnet, type Underlay } from '../underlay';
import { ensureIpip, IPIP_DEVICE, IPIP_OVERHEAD, ipipSpec } from '../ipip/link';
import { VxlanDevice, VXLAN_OVERHEAD } from '../vxlan/device';
import { ensureOnlyAddr } from '../vxlan/link';
import { describeOp, planVxlan, type Peer } from '../vxlan/plan';
import { vxlanDeviceName } from '../vxlan/backend';

export interface VxlanParams { vni: number; port: number }

export class BgpTunnel {
  private readonly vxlan: VxlanDevice;
  private link?: net.Link;
  private u?: Underlay;
  /** underlay address -> the node's lease, for the nodes we tunnel to */
  private tunnelled = new Map<string, Lease>();

  constructor(private readonly nl: net.Rtnl, readonly encap: BgpEncap | undefined, vx: VxlanParams, private readonly cluster: net.Cidr) {
    this.vxlan = new VxlanDevice(nl, { name: vxlanDeviceName(vx.vni), vni: vx.vni, port: vx.port });
  }

  get overhead(): number {
    return !this.encap ? 0 : this.encap.kind === 'ipip' ? IPIP_OVERHEAD : VXLAN_OVERHEAD;
  }

  /** the VTEP MAC to publish (VXLAN only) */
  get vtepMac(): string {
    return this.encap?.kind === 'vxlan' ? this.link?.mac ?? '' : '';
  }

  /**
   * The tunnel device as the underlay needs it (our block's network address /32 on it: the source of
   * node-to-pod traffic, as on Calico's tunl0), and no device of the other kind (a previous run's).
   * True when the device is new (routes through an old one went with it).
   */
  async ensure(u: Underlay, block: string | undefined, changes: string[]): Promise<boolean> {
    this.u = u;
    if (this.encap?.kind !== 'ipip' && (await net.deleteLinkByName(this.nl, IPIP_DEVICE))) changes.push(`del ${IPIP_DEVICE}`);
    if (this.encap?.kind !== 'vxlan' && (await this.vxlan.remove())) changes.push(`del ${this.vxlan.o.name}`);
    if (!this.encap) return false;
    const before = this.link?.index;
    const addr = block ? `${subnetAddrs(block).network}/32` : undefined;
    if (this.encap.kind === 'ipip') {
      this.link = await ensureIpip(this.nl, ipipSpec(u), changes);
      if (addr) changes.push(...(await ensureOnlyAddr(this.nl, this.link.index, addr)));
    } else {
      this.link = await this.vxlan.ensure(u, addr, changes);
    }
    return before !== undefined && before !== this.link.index;
  }

  /** Would we tunnel to a node at `ip`? */
  wants(ip: string): boolean {
    if (!this.encap || !this.u) return false;
    return this.encap.mode === 'always' || !onSubnet(this.u, ip);
  }

  /** For EncapFib: the device for a route into the cluster network via a node we tunnel to. */
  readonly tunnelFor = (prefix: string, gateway: string): number | undefined => {
    if (!this.link || !this.tunnelled.has(gateway)) return undefined;
    return net.cidrContains(this.cluster, net.parseCidr(prefix).ip) ? this.link.index : undefined;
  };

  /**
   * Takes the store's nodes; for VXLAN puts the neighbour and FDB entries right. True when the set of
   * tunnelled nodes changed (routes already in the kernel may need another shape).
   */
  async sync(own: Lease, all: Lease[], changes: string[]): Promise<boolean> {
    const next = new Map<string, Lease>();
    for (const l of all) {
      if (l.node === own.node || l.backend !== 'bgp' || !l.publicIp || !this.wants(l.publicIp)) continue;
      // a VXLAN peer without a VTEP MAC yet (still starting) cannot be reached through the device
      if (this.encap?.kind === 'vxlan' && !l.vtepMac) continue;
      next.set(l.publicIp, l);
    }
    const key = (m: Map<string, Lease>): string => [...m].map(([ip, l]) => `${ip}=${l.vtepMac}`).sort().join(' ');
    const changed = key(next) !== key(this.tunnelled);
    this.tunnelled = next;
    if (this.encap?.kind === 'vxlan' && this.link) {
      const peers: Peer[] = [...next.values()].map((l) => ({ node: l.node, subnet: l.subnet, gw: l.publicIp, vtepMac: l.vtepMac, publicIp: l.publicIp }));
      const cur = await this.vxlan.current(this.link.index, () => false);
      // the routes on the device are BGP's (EncapFib): only the L2 half of the plan is ours
      for (const op of planVxlan(peers, cur).filter((o) => o.kind !== 'route-set' && o.kind !== 'route-del')) {
        await this.vxlan.apply(this.link.index, op);
        changes.push(describeOp(op));
      }
    }
    return changed;
  }

  /** The node leaves: the device goes, and every route, neighbour and FDB entry on it with it. */
  async remove(): Promise<void> {
    if (this.encap?.kind === 'ipip') await net.deleteLinkByName(this.nl, IPIP_DEVICE);
    if (this.encap?.kind === 'vxlan') await this.vxlan.remove();
    this.link = undefined;
  }
}
