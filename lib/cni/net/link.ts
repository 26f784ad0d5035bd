// Links: get/list, create bridge / veth / vxlan, set attributes, bridge-port flags, delete.
import os = require('node:os');
import { Attr, encodeAttrs, parseAttrs, readStr, readU32, str, u8, u16, u16be, u32 } from './nl/attrs';
import {
  AF, BRIDGE_VLAN_INFO, IFF, IFLA, IFLA_BR, IFLA_BRIDGE, IFLA_BRPORT, IFLA_INFO, IFLA_VXLAN, NLM_F, RTM, VETH_INFO_PEER,
} from './nl/constants';
import { NetlinkError, Rtnl } from './nl/socket';
import { ipFamily, ipToBytes } from '../../util/ip-address';
import { formatMac, parseMac } from './mac';

const { ENODEV } = os.constants.errno;

export interface Link {
  index: number;
  name: string;
  /** "bridge", "veth", "vxlan"... or undefined for plain devices (lo) */
  kind?: string;
  up: boolean;
  promisc: boolean;
  mtu: number;
  mac: string;
  /** ifindex of the bridge this link is a port of */
  master?: number;
  /** for veth: the peer's ifindex (in linkNetnsId's netns when that is set) */
  peerIndex?: number;
  linkNetnsId?: number;
  /** IFLA_IFALIAS, the free-text description (`ip link set X alias Y`) */
  alias?: string;
}

function ifinfomsg(index = 0, flags = 0, change = 0, family: number = AF.UNSPEC): Buffer {
  const b = Buffer.alloc(16);
  b.writeUInt8(family, 0);
  b.writeInt32LE(index, 4);
  b.writeUInt32LE(flags, 8);
  b.writeUInt32LE(change, 12);
  return b;
}

function parseLink(body: Buffer): Link {
  const index = body.readInt32LE(4);
  const flags = body.readUInt32LE(8);
  const a = parseAttrs(body.subarray(16));
  const info = a.get(IFLA.LINKINFO);
  const mac = a.get(IFLA.ADDRESS);
  const link = a.get(IFLA.LINK);
  const nsid = a.get(IFLA.LINK_NETNSID);
  return {
    index,
    name: readStr(a.get(IFLA.IFNAME)) ?? '',
    kind: info ? readStr(parseAttrs(info).get(IFLA_INFO.KIND)) : undefined,
    up: (flags & IFF.UP) !== 0,
    promisc: (flags & IFF.PROMISC) !== 0,
    mtu: readU32(a.get(IFLA.MTU)) ?? 0,
    mac: mac ? formatMac(mac) : '',
    master: readU32(a.get(IFLA.MASTER)),
    peerIndex: link && link.readUInt32LE(0) !== index ? link.readUInt32LE(0) : undefined,
    linkNetnsId: nsid ? nsid.readInt32LE(0) : undefined,
    alias: readStr(a.get(IFLA.IFALIAS)),
  };
}

export async function listLinks(nl: Rtnl): Promise<Link[]> {
  const msgs = await nl.request('list links', RTM.GETLINK, NLM_F.DUMP, ifinfomsg());
  return msgs.filter((m) => m.type === RTM.NEWLINK).map((m) => parseLink(m.body));
}

/** The link called `name`, or undefined when there is none. */
export async function getLink(nl: Rtnl, name: string): Promise<Link | undefined> {
  try {
    const msgs = await nl.request(`get link ${name}`, RTM.GETLINK, 0, Buffer.concat([ifinfomsg(), encodeAttrs([{ type: IFLA.IFNAME, value: str(name) }])]));
    return msgs.length ? parseLink(msgs[0].body) : undefined;
  } catch (e) {
    if (e instanceof NetlinkError && (e.code === 'ENODEV' || e.code === 'ENOENT')) return undefined;
    throw e;
  }
}

export async function getLinkByIndex(nl: Rtnl, index: number): Promise<Link | undefined> {
  try {
    const msgs = await nl.request(`get link #${index}`, RTM.GETLINK, 0, ifinfomsg(index));
    return msgs.length ? parseLink(msgs[0].body) : undefined;
  } catch (e) {
    if (e instanceof NetlinkError && (e.code === 'ENODEV' || e.code === 'ENOENT')) return undefined;
    throw e;
  }
}

export async function mustGetLink(nl: Rtnl, name: string): Promise<Link> {
  const l = await getLink(nl, name);
  if (!l) throw new NetlinkError(`get link ${name}`, ENODEV);
  return l;
}

export interface CommonLinkOptions { mtu?: number; mac?: string; up?: boolean }

function commonAttrs(o: CommonLinkOptions): Attr[] {
  const attrs: Attr[] = [];
  if (o.mtu !== undefined) attrs.push({ type: IFLA.MTU, value: u32(o.mtu) });
  if (o.mac !== undefined) attrs.push({ type: IFLA.ADDRESS, value: parseMac(o.mac) });
  return attrs;
}

/**
 * Creates the link and returns it as the kernel announced it: with NLM_F_ECHO (Linux 6.1 and later) the
 * announcement comes back with the ACK, saving the GET that older kernels need.
 */
async function newLink(nl: Rtnl, name: string, o: CommonLinkOptions, linkinfo: Attr[], extra: Attr[] = []): Promise<Link> {
  const attrs: Attr[] = [{ type: IFLA.IFNAME, value: str(name) }, ...commonAttrs(o), ...extra, { type: IFLA.LINKINFO, value: linkinfo }];
  const up = o.up ? IFF.UP : 0;
  const echoed = await nl.request(`create link ${name}`, RTM.NEWLINK, NLM_F.CREATE | NLM_F.EXCL | NLM_F.ECHO, Buffer.concat([ifinfomsg(0, up, up), encodeAttrs(attrs)]));
  for (const m of echoed) {
    if (m.type !== RTM.NEWLINK) continue;
    const link = parseLink(m.body);
    if (link.name === name) return link;
  }
  return mustGetLink(nl, name);
}

export interface BridgeOptions extends CommonLinkOptions { vlanFiltering?: boolean }

export function createBridge(nl: Rtnl, name: string, o: BridgeOptions = {}): Promise<Link> {
  const data: Attr[] = [];
  if (o.vlanFiltering !== undefined) data.push({ type: IFLA_BR.VLAN_FILTERING, value: u8(o.vlanFiltering ? 1 : 0) });
  return newLink(nl, name, o, [{ type: IFLA_INFO.KIND, value: str('bridge') }, ...(data.length ? [{ type: IFLA_INFO.DATA, value: data }] : [])]);
}

export interface VethOptions extends CommonLinkOptions {
  peerName: string;
  peerMac?: string;
  peerMtu?: number;
  /** fd of the netns the peer is created in (IFLA_NET_NS_FD); the caller's netns when undefined */
  peerNetnsFd?: number;
}

/** Creates `name` here and its peer directly inside peerNetnsFd, so the peer's name never clashes here. */
export function createVeth(nl: Rtnl, name: string, o: VethOptions): Promise<Link> {
  const peer: Attr[] = [{ type: IFLA.IFNAME, value: str(o.peerName) }, ...commonAttrs({ mtu: o.peerMtu ?? o.mtu, mac: o.peerMac })];
  if (o.peerNetnsFd !== undefined) peer.push({ type: IFLA.NET_NS_FD, value: u32(o.peerNetnsFd) });
  // VETH_INFO_PEER carries a whole ifinfomsg followed by the peer's attributes
  const peerPayload = Buffer.concat([ifinfomsg(), encodeAttrs(peer)]);
  return newLink(nl, name, o, [
    { type: IFLA_INFO.KIND, value: str('veth') },
    { type: IFLA_INFO.DATA, value: [{ type: VETH_INFO_PEER, value: peerPayload }] },
  ]);
}

export interface VxlanOptions extends CommonLinkOptions {
  vni: number;
  /** underlay source address */
  local?: string;
  /** ifindex of the underlay device */
  dev?: number;
  port?: number;
  learning?: boolean;
  ttl?: number;
}

export function createVxlan(nl: Rtnl, name: string, o: VxlanOptions): Promise<Link> {
  const data: Attr[] = [{ type: IFLA_VXLAN.ID, value: u32(o.vni) }];
  if (o.local) data.push({ type: ipFamily(o.local) === 4 ? IFLA_VXLAN.LOCAL : IFLA_VXLAN.LOCAL6, value: ipToBytes(o.local) });
  if (o.dev !== undefined) data.push({ type: IFLA_VXLAN.LINK, value: u32(o.dev) });
  data.push({ type: IFLA_VXLAN.PORT, value: u16be(o.port ?? 4789) });
  data.push({ type: IFLA_VXLAN.LEARNING, value: u8(o.learning ? 1 : 0) });
  if (o.ttl !== undefined) data.push({ type: IFLA_VXLAN.TTL, value: u8(o.ttl) });
  return newLink(nl, name, o, [{ type: IFLA_INFO.KIND, value: str('vxlan') }, { type: IFLA_INFO.DATA, value: data }]);
}

export interface IpipOptions extends CommonLinkOptions {
  /** outer source address; the outer destination comes from each route's gateway (remote "any") */
  local: string;
  /** ifindex of the underlay device */
  dev: number;
}

/** IFLA_IPTUN_* of <linux/if_tunnel.h> */
export const IFLA_IPTUN = { LINK: 1, LOCAL: 2, REMOTE: 3, TTL: 4, PMTUDISC: 10 } as const;

/** An IPv4-in-IPv4 tunnel with no fixed remote (Calico's tunl0 shape), TTL inherited, PMTU discovery on. */
export function createIpip(nl: Rtnl, name: string, o: IpipOptions): Promise<Link> {
  const data: Attr[] = [
    { type: IFLA_IPTUN.LINK, value: u32(o.dev) },
    { type: IFLA_IPTUN.LOCAL, value: ipToBytes(o.local) },
    { type: IFLA_IPTUN.TTL, value: u8(0) },
    { type: IFLA_IPTUN.PMTUDISC, value: u8(1) },
  ];
  return newLink(nl, name, o, [{ type: IFLA_INFO.KIND, value: str('ipip') }, { type: IFLA_INFO.DATA, value: data }]);
}

/** A macvlan or ipvlan sub-interface of `master` (an ifindex here), created directly inside netnsFd. */
export interface LowerLinkOptions extends CommonLinkOptions {
  master: number;
  netnsFd: number;
}

// IFLA_MACVLAN_MODE (u32 flags) and IFLA_IPVLAN_MODE (u16), both attribute 1 of IFLA_INFO_DATA
export const MACVLAN_MODES = { private: 1, vepa: 2, bridge: 4, passthru: 8 } as const;
export const IPVLAN_MODES = { l2: 0, l3: 1, l3s: 2 } as const;

export function createMacvlan(nl: Rtnl, name: string, mode: keyof typeof MACVLAN_MODES, o: LowerLinkOptions): Promise<void> {
  return newLowerLink(nl, name, o, 'macvlan', u32(MACVLAN_MODES[mode]));
}

export function createIpvlan(nl: Rtnl, name: string, mode: keyof typeof IPVLAN_MODES, o: LowerLinkOptions): Promise<void> {
  return newLowerLink(nl, name, o, 'ipvlan', u16(IPVLAN_MODES[mode]));
}

async function newLowerLink(nl: Rtnl, name: string, o: LowerLinkOptions, kind: string, mode: Buffer): Promise<void> {
  // the link is born in the target namespace: its name never clashes here, and no move is needed
  const attrs: Attr[] = [
    { type: IFLA.IFNAME, value: str(name) }, ...commonAttrs(o), { type: IFLA.LINK, value: u32(o.master) },
    { type: IFLA.NET_NS_FD, value: u32(o.netnsFd) },
    { type: IFLA.LINKINFO, value: [{ type: IFLA_INFO.KIND, value: str(kind) }, { type: IFLA_INFO.DATA, value: [{ type: 1, value: mode }] }] },
  ];
  await nl.request(`create ${kind} ${name}`, RTM.NEWLINK, NLM_F.CREATE | NLM_F.EXCL, Buffer.concat([ifinfomsg(), encodeAttrs(attrs)]));
}

export interface LinkChanges {
  up?: boolean;
  promisc?: boolean;
  mtu?: number;
  mac?: string;
  /** bridge ifindex to enslave to; 0 to release */
  master?: number;
  name?: string;
  /** move into this netns (fd of its nsfs file) */
  netnsFd?: number;
  /** IFLA_IFALIAS (at most 255 bytes); the kernel ignores it when a link is created, so it is set after */
  alias?: string;
}

export async function setLink(nl: Rtnl, index: number, c: LinkChanges): Promise<void> {
  let flags = 0, change = 0;
  if (c.up !== undefined) { change |= IFF.UP; if (c.up) flags |= IFF.UP; }
  if (c.promisc !== undefined) { change |= IFF.PROMISC; if (c.promisc) flags |= IFF.PROMISC; }
  const attrs = commonAttrs(c);
  if (c.master !== undefined) attrs.push({ type: IFLA.MASTER, value: u32(c.master) });
  if (c.name !== undefined) attrs.push({ type: IFLA.IFNAME, value: str(c.name) });
  if (c.netnsFd !== undefined) attrs.push({ type: IFLA.NET_NS_FD, value: u32(c.netnsFd) });
  if (c.alias !== undefined) attrs.push({ type: IFLA.IFALIAS, value: Buffer.from(c.alias) });
  await nl.request(`set link #${index}`, RTM.SETLINK, 0, Buffer.concat([ifinfomsg(index, flags, change), encodeAttrs(attrs)]));
}

export async function deleteLink(nl: Rtnl, index: number): Promise<void> {
  await nl.request(`delete link #${index}`, RTM.DELLINK, 0, ifinfomsg(index));
}

/** Deletes `name` if it exists; true when something was deleted. One request: the kernel finds the name. */
export async function deleteLinkByName(nl: Rtnl, name: string): Promise<boolean> {
  try {
    await nl.request(`delete link ${name}`, RTM.DELLINK, 0, Buffer.concat([ifinfomsg(), encodeAttrs([{ type: IFLA.IFNAME, value: str(name) }])]));
    return true;
  } catch (e) {
    if (e instanceof NetlinkError && e.code === 'ENODEV') return false; // not there, or raced with another delete
    throw e;
  }
}

/**
 * deleteLinkByName for a link in the namespace the process started in (the host end of a veth), whatever
 * netns.ts did to the main thread. It resolves once the kernel has taken the device out of the namespace
 * (native/src/rtnl.c): the RCU wait the kernel adds before it frees a device (the longer part of a delete) is sat out by a
 * child process, not by a DEL, which releases the address meanwhile. false: there was no such device.
 */
export async function deleteHostLinkByName(name: string): Promise<boolean> {
  const { native } = require('../../sys/native') as typeof import('../../sys/native');
  const result = await native().rtnlDeleteLink(name);
  if (result === -ENODEV) return false; // not there, or raced with another delete
  if (result < 0) throw new NetlinkError(`delete link ${name}`, -result);
  return true;
}

export interface BridgePortFlags { hairpin?: boolean; learning?: boolean }

/** Bridge-port flags, set through the bridge's own setlink (family AF_BRIDGE, IFLA_PROTINFO). */
export async function setBridgePort(nl: Rtnl, index: number, f: BridgePortFlags): Promise<void> {
  const port: Attr[] = [];
  if (f.hairpin !== undefined) port.push({ type: IFLA_BRPORT.MODE, value: u8(f.hairpin ? 1 : 0) });
  if (f.learning !== undefined) port.push({ type: IFLA_BRPORT.LEARNING, value: u8(f.learning ? 1 : 0) });
  await nl.request(`set bridge port #${index}`, RTM.SETLINK, 0,
    Buffer.concat([ifinfomsg(index, 0, 0, AF.BRIDGE), encodeAttrs([{ type: IFLA.PROTINFO, value: port }])]));
}

export async function getBridgePort(nl: Rtnl, index: number): Promise<{ hairpin: boolean; learning: boolean }> {
  const msgs = await nl.request(`get bridge port #${index}`, RTM.GETLINK, NLM_F.DUMP, ifinfomsg(0, 0, 0, AF.BRIDGE));
  for (const m of msgs) {
    if (m.body.readInt32LE(4) !== index) continue;
    const p = parseAttrs(parseAttrs(m.body.subarray(16)).get(IFLA.PROTINFO) ?? Buffer.alloc(0));
    return { hairpin: (p.get(IFLA_BRPORT.MODE)?.[0] ?? 0) === 1, learning: (p.get(IFLA_BRPORT.LEARNING)?.[0] ?? 0) === 1 };
  }
  throw new NetlinkError(`get bridge port #${index}`, ENODEV);
}

/**
 * Adds a VLAN to a bridge port (the bridge needs vlan filtering on). pvidUntagged makes it the port's
 * native VLAN: untagged frames from the container belong to it and leave untagged.
 */
export async function addBridgeVlan(nl: Rtnl, index: number, vid: number, pvidUntagged: boolean, self = false): Promise<void> {
  const info = Buffer.alloc(4);
  info.writeUInt16LE(pvidUntagged ? BRIDGE_VLAN_INFO.PVID | BRIDGE_VLAN_INFO.UNTAGGED : 0, 0);
  info.writeUInt16LE(vid, 2);
  const spec: Attr[] = [{ type: IFLA_BRIDGE.VLAN_INFO, value: info }];
  // BRIDGE_FLAGS_SELF (2) targets the bridge device itself rather than a port
  if (self) spec.unshift({ type: IFLA_BRIDGE.FLAGS, value: u16(2) });
  await nl.request(`add vlan ${vid} to #${index}`, RTM.SETLINK, 0,
    Buffer.concat([ifinfomsg(index, 0, 0, AF.BRIDGE), encodeAttrs([{ type: IFLA.AF_SPEC, value: spec }])]));
}

export async function delBridgeVlan(nl: Rtnl, index: number, vid: number): Promise<void> {
  const info = Buffer.alloc(4);
  info.writeUInt16LE(vid, 2);
  await nl.request(`delete vlan ${vid} from #${index}`, RTM.DELLINK, 0,
    Buffer.concat([ifinfomsg(index, 0, 0, AF.BRIDGE), encodeAttrs([{ type: IFLA.AF_SPEC, value: [{ type: IFLA_BRIDGE.VLAN_INFO, value: info }] }])]));
}
