// The node's IPIP device for the BGP backend's IPIP encapsulation (Calico's tunl0, but our own device so
// a node that leaves can delete it): remote "any", local = our underlay address, so each route's gateway
// (the other node's underlay address, onlink) is the outer destination. Recreated only when its local
// address or underlay differ, so an agent restart changes nothing.
import * as net from '../../../net';
import { BerthError } from '../../../../util/errors';
import { readU32 } from '../../../net/nl/attrs';
import { linkKindData } from '../link-info';
import type { Underlay } from '../underlay';

/** outer IPv4 header */
export const IPIP_OVERHEAD = 20;
export const IPIP_DEVICE = 'berth.ipip';

export interface IpipSpec { name: string; local: string; dev: number; mtu: number }

export function ipipSpec(u: Underlay, name = IPIP_DEVICE): IpipSpec {
  return { name, local: u.ip, dev: u.index, mtu: u.mtu - IPIP_OVERHEAD };
}

/** The device as `spec` wants it; one line per change. */
export async function ensureIpip(nl: net.Rtnl, spec: IpipSpec, changes: string[]): Promise<net.Link> {
  let link = await net.getLink(nl, spec.name);
  if (link) {
    const info = await linkKindData(nl, spec.name);
    const local = info?.data.get(net.IFLA_IPTUN.LOCAL);
    const same = info?.kind === 'ipip' && local && net.bytesToIp(local) === spec.local && readU32(info.data.get(net.IFLA_IPTUN.LINK)) === spec.dev;
    if (!same) {
      changes.push(`recreate ${spec.name} (was ${info?.kind ?? link.kind} local ${local ? net.bytesToIp(local) : '-'})`);
      await net.deleteLink(nl, link.index);
      link = undefined;
    }
  }
  if (!link) {
    try {
      link = await net.createIpip(nl, spec.name, { local: spec.local, dev: spec.dev, mtu: spec.mtu });
    } catch (e) {
      // the kernel has no "ipip" link kind (CONFIG_NET_IPIP off): say so rather than a bare EOPNOTSUPP
      if (e instanceof net.NetlinkError && e.code === 'EOPNOTSUPP') throw new BerthError('this kernel has no IPIP tunnels (CONFIG_NET_IPIP): use --bgp-vxlan instead', { field: '--bgp-ipip' });
      throw e;
    }
    changes.push(`create ${spec.name} ipip local ${spec.local} mtu ${spec.mtu}`);
  }
  if (link.mtu !== spec.mtu) {
    await net.setLink(nl, link.index, { mtu: spec.mtu });
    changes.push(`${spec.name} mtu ${link.mtu} -> ${spec.mtu}`);
  }
  if (!link.up) {
    await net.setLink(nl, link.index, { up: true });
    changes.push(`${spec.name} up`);
  }
  return (await net.getLinkByIndex(nl, link.index)) ?? link;
}
