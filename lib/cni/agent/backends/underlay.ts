// The node's underlay as every backend sees it: the interface, the address other nodes reach (with its
// prefix, which says which nodes share our L2 subnet) and its MTU. Cross-subnet choices (Calico's
// CrossSubnet, flannel's DirectRouting and host-gw) compare a peer's address with that prefix, as Calico
// does; flannel asks the kernel instead (a route to the peer without a gateway), which agrees on any
// underlay where the connected prefix is the L2 segment.
import * as net from '../../net';
import { BerthError } from '../../../util/errors';

export interface Underlay {
  index: number;
  name: string;
  /** the address published to other nodes */
  ip: string;
  /** prefix length of that address on the interface (32 when --public-ip is not one of its addresses) */
  prefix: number;
  mtu: number;
}

/** The interface and its address: `publicIp` when given, else its first global IPv4 address. */
export async function readUnderlay(nl: net.Rtnl, iface: string, publicIp?: string): Promise<Underlay> {
  const link = await net.getLink(nl, iface);
  if (!link) throw new BerthError(`underlay interface ${iface} does not exist`, { field: '--iface' });
  const addrs = (await net.listAddrs(nl, { index: link.index, family: 4 })).filter((a) => a.scope === 0);
  const a = publicIp ? addrs.find((x) => x.ip === publicIp) : addrs[0];
  if (!publicIp && !a) throw new BerthError(`underlay interface ${iface} has no IPv4 address`, { field: '--iface' });
  return { index: link.index, name: link.name, ip: publicIp ?? a!.ip, prefix: a?.prefix ?? 32, mtu: link.mtu };
}

/** Is `peerIp` on the same underlay subnet as us (reachable without a router)? */
export function onSubnet(u: Pick<Underlay, 'ip' | 'prefix'>, peerIp: string): boolean {
  return net.cidrContains(net.parseCidr(`${u.ip}/${u.prefix}`), peerIp);
}

/** "10.250.0.0/24": our underlay subnet, for messages */
export function underlaySubnet(u: Pick<Underlay, 'ip' | 'prefix'>): string {
  return net.cidrString(net.networkOf(net.parseCidr(`${u.ip}/${u.prefix}`)));
}
