// A link's kind and IFLA_INFO_DATA attributes (lib/cni/net's Link has neither): what the tunnel devices
// (VXLAN, IPIP) compare with their wanted spec before deciding to leave a device alone.
import * as net from '../../net';
import { parseAttrs, readStr, str, encodeAttrs } from '../../net/nl/attrs';
import { IFLA, IFLA_INFO, RTM } from '../../net/nl/constants';
import type { NlMessage } from '../../net/nl/socket';

/** undefined when there is no such link or it has no link info */
export async function linkKindData(nl: net.Rtnl, name: string): Promise<{ kind?: string; data: Map<number, Buffer> } | undefined> {
  const hdr = Buffer.alloc(16);
  let msgs: NlMessage[];
  try {
    msgs = await nl.request(`get link ${name}`, RTM.GETLINK, 0, Buffer.concat([hdr, encodeAttrs([{ type: IFLA.IFNAME, value: str(name) }])]));
  } catch (e) {
    if (e instanceof net.NetlinkError && e.code === 'ENODEV') return undefined;
    throw e;
  }
  const info = msgs.length ? parseAttrs(msgs[0].body.subarray(16)).get(IFLA.LINKINFO) : undefined;
  if (!info) return undefined;
  const li = parseAttrs(info);
  return { kind: readStr(li.get(IFLA_INFO.KIND)), data: parseAttrs(li.get(IFLA_INFO.DATA) ?? Buffer.alloc(0)) };
}
