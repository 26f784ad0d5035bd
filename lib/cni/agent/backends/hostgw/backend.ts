// flannel's host-gw backend: no encapsulation; every other node's subnet is routed via that node's
// underlay address, so every node must sit on our L2 subnet. A node that does not is refused: no route
// for it (a route via a gateway that is not on-link would be rejected by the kernel, or blackhole the
// traffic behind a router that does not know the pod subnets), and an error naming it, as flannel logs
// and skips such a lease.
import * as net from '../../../net';
import type { Backend, Published, ReconcileReport } from '../backend';
import type { Lease } from '../../store/types';
import { onSubnet, readUnderlay, underlaySubnet } from '../underlay';
import { removeDirect, syncDirect, type DirectRoute } from '../direct-routes';

export interface HostGwOptions { iface: string; publicIp?: string }

export class HostGwBackend implements Backend {
  readonly name = 'host-gw' as const;

  constructor(private readonly nl: net.Rtnl, private readonly o: HostGwOptions) {}

  async prepare(): Promise<Published> {
    net.writeSysctl('net.ipv4.ip_forward', '1');
    const u = await readUnderlay(this.nl, this.o.iface, this.o.publicIp);
    return { publicIp: u.ip, vtepMac: '', mtu: u.mtu };
  }

  async reconcile(own: Lease, all: Lease[]): Promise<ReconcileReport> {
    const u = await readUnderlay(this.nl, this.o.iface, this.o.publicIp);
    const want: DirectRoute[] = [];
    const problems: string[] = [];
    const peers: string[] = [];
    for (const l of all) {
      if (l.node === own.node || l.backend !== 'host-gw' || !l.publicIp) continue;
      if (!onSubnet(u, l.publicIp)) {
        problems.push(`host-gw: node ${l.node} (${l.publicIp}) is not on this node's underlay subnet ${underlaySubnet(u)}: host-gw needs every node on one L2 network; no route to ${l.subnet} (use --backend vxlan --vxlan-direct-routing)`);
        continue;
      }
      want.push({ dst: l.subnet, gw: l.publicIp });
      peers.push(l.node);
    }
    const changes = await syncDirect(this.nl, want, u);
    return { changes, problems, published: { publicIp: u.ip, vtepMac: '', mtu: u.mtu }, peers };
  }

  async close(restart = false): Promise<void> {
    // a restart keeps the routes (forwarding goes on); a node that leaves takes them away
    if (!restart) await removeDirect(this.nl).catch(() => undefined);
    this.nl.close();
  }
}
