// The node-side bridge: create or reuse it, and give it the subnet's gateway addresses.
import { addAddr, delAddr, listAddrs } from './addr';
import { cidrContains, parseCidr } from '../../util/ip-address';
import { createBridge, getLink, Link, setLink } from './link';
import { NetlinkError, Rtnl } from './nl/socket';

export interface EnsureBridgeOptions { name: string; mtu?: number; vlanFiltering?: boolean; promisc?: boolean }

/** The bridge called `name`, created if missing (a concurrent ADD may win the race: then reuse it). */
export async function ensureBridge(nl: Rtnl, o: EnsureBridgeOptions): Promise<Link> {
  let br = await getLink(nl, o.name);
  if (!br) {
    try {
      br = await createBridge(nl, o.name, { mtu: o.mtu, vlanFiltering: o.vlanFiltering });
    } catch (e) {
      if (!(e instanceof NetlinkError && e.code === 'EEXIST')) throw e;
      br = await getLink(nl, o.name);
    }
  }
  if (!br) throw new Error(`bridge ${o.name} vanished while being created`);
  if (br.kind !== 'bridge') throw new Error(`${o.name} already exists and is not a bridge (it is ${br.kind ?? 'a plain device'})`);
  if (!br.up || (o.promisc && !br.promisc)) await setLink(nl, br.index, { up: true, ...(o.promisc ? { promisc: true } : {}) });
  return br;
}

/**
 * Puts gateway/prefix on the bridge. A different address of the same family in the same subnet is an
 * error unless force, which replaces it (the reference's forceAddress).
 */
export async function setGatewayAddrs(nl: Rtnl, index: number, gateways: string[], force: boolean): Promise<void> {
  if (gateways.length === 0) return;
  const wanted = gateways.map(parseCidr);
  // only the gateways' family when they share one: the kernel then dumps no other family's addresses
  const family = wanted.every((w) => w.family === wanted[0].family) ? wanted[0].family : undefined;
  const have = await listAddrs(nl, { index, family });
  for (const [i, gw] of gateways.entries()) {
    const want = wanted[i];
    if (have.some((a) => a.ip === want.ip && a.prefix === want.prefix)) continue;
    for (const a of have.filter((x) => x.family === want.family && x.scope === 0 && cidrContains(want, x.ip))) {
      if (!force) throw new Error(`bridge already has address ${a.cidr}, not the gateway ${gw} (set forceAddress to replace it)`);
      await delAddr(nl, index, a.cidr);
    }
    await addAddr(nl, index, gw, { nodad: want.family === 6 });
  }
}
