// The node's VXLAN device: read its VXLAN attributes (lib/cni/net's Link has none) and make it match the
// wanted spec, touching it only when something differs so an agent restart changes nothing.
import * as net from '../../../net';
import { readU32 } from '../../../net/nl/attrs';
import { IFLA_VXLAN } from '../../../net/nl/constants';
import { linkKindData } from '../link-info';

export interface VxlanSpec {
  name: string;
  vni: number;
  port: number;
  /** local VTEP address on the underlay */
  local: string;
  /** underlay ifindex */
  dev: number;
  mtu: number;
}

export interface VxlanInfo { vni?: number; port?: number; local?: string; dev?: number; learning?: boolean }

export async function getVxlanInfo(nl: net.Rtnl, name: string): Promise<VxlanInfo | undefined> {
  const info = await linkKindData(nl, name);
  if (info?.kind !== 'vxlan') return undefined;
  const d = info.data;
  const local = d.get(IFLA_VXLAN.LOCAL);
  const port = d.get(IFLA_VXLAN.PORT);
  return {
    vni: readU32(d.get(IFLA_VXLAN.ID)),
    port: port ? port.readUInt16BE(0) : undefined,
    local: local ? net.bytesToIp(local) : undefined,
    dev: readU32(d.get(IFLA_VXLAN.LINK)),
    learning: (d.get(IFLA_VXLAN.LEARNING)?.[0] ?? 0) === 1,
  };
}

export interface EnsureResult { link: net.Link; created: boolean; changes: string[] }

/**
 * The device `spec.name`, created when missing, recreated when its VNI, port, local address, underlay or
 * learning differ (the kernel cannot change those in place), MTU and up state fixed in place.
 */
export async function ensureVxlan(nl: net.Rtnl, spec: VxlanSpec): Promise<EnsureResult> {
  const changes: string[] = [];
  let link = await net.getLink(nl, spec.name);
  if (link) {
    const have = link.kind === 'vxlan' ? await getVxlanInfo(nl, spec.name) : undefined;
    const same = have && have.vni === spec.vni && have.port === spec.port && have.local === spec.local && have.dev === spec.dev && !have.learning;
    if (!same) {
      changes.push(`recreate ${spec.name} (had ${JSON.stringify(have ?? { kind: link.kind })})`);
      await net.deleteLink(nl, link.index);
      link = undefined;
    }
  }
  let created = false;
  if (!link) {
    link = await net.createVxlan(nl, spec.name, { vni: spec.vni, port: spec.port, local: spec.local, dev: spec.dev, learning: false, mtu: spec.mtu });
    created = true;
    changes.push(`create ${spec.name} vni ${spec.vni} port ${spec.port} local ${spec.local} mtu ${spec.mtu}`);
  }
  if (link.mtu !== spec.mtu) {
    await net.setLink(nl, link.index, { mtu: spec.mtu });
    changes.push(`mtu ${link.mtu} -> ${spec.mtu}`);
  }
  if (!link.up) {
    await net.setLink(nl, link.index, { up: true });
    changes.push('up');
  }
  return { link: (await net.getLinkByIndex(nl, link.index)) ?? link, created, changes };
}

/** Exactly `cidr` on the device: added when missing, any other IPv4 address (an old subnet's) removed. */
export async function ensureOnlyAddr(nl: net.Rtnl, index: number, cidr: string): Promise<string[]> {
  const changes: string[] = [];
  const want = net.parseCidr(cidr);
  const have = await net.listAddrs(nl, { index, family: 4 });
  for (const a of have) {
    if (a.ip === want.ip && a.prefix === want.prefix) continue;
    await net.delAddr(nl, index, a.cidr);
    changes.push(`del addr ${a.cidr}`);
  }
  if (!have.some((a) => a.ip === want.ip && a.prefix === want.prefix)) {
    await net.addAddr(nl, index, cidr);
    changes.push(`add addr ${cidr}`);
  }
  return changes;
}
