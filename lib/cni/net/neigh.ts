// Neighbours (ARP/NDP entries) and bridge FDB entries, for the VXLAN controller: permanent entries
// that map an overlay IP to a MAC, and a MAC to the remote VTEP that owns it.
import { Attr, encodeAttrs, parseAttrs, readU32, u32 } from './nl/attrs';
import { AF, NDA, NLM_F, NTF, NUD, RTM } from './nl/constants';
import { NetlinkError, Rtnl } from './nl/socket';
import { bytesToIp, ipFamily, ipToBytes } from '../../util/ip-address';
import { formatMac, parseMac } from './mac';

export interface Neigh {
  index: number;
  /** neighbour IP (ARP/NDP) */
  ip?: string;
  mac?: string;
  /** FDB entries: the remote VTEP's underlay address */
  dst?: string;
  vni?: number;
  state: number;
  flags: number;
  fdb: boolean;
}

function ndmsg(family: number, index: number, state: number, flags: number): Buffer {
  const b = Buffer.alloc(12);
  b.writeUInt8(family, 0);
  b.writeInt32LE(index, 4);
  b.writeUInt16LE(state, 8);
  b.writeUInt8(flags, 10);
  return b;
}

function neighBody(n: { index: number; ip: string; mac?: string }): Buffer {
  const attrs: Attr[] = [{ type: NDA.DST, value: ipToBytes(n.ip) }];
  if (n.mac) attrs.push({ type: NDA.LLADDR, value: parseMac(n.mac) });
  return Buffer.concat([ndmsg(ipFamily(n.ip) === 4 ? AF.INET : AF.INET6, n.index, NUD.PERMANENT, 0), encodeAttrs(attrs)]);
}

function fdbBody(f: { index: number; mac: string; dst?: string; vni?: number }): Buffer {
  const attrs: Attr[] = [{ type: NDA.LLADDR, value: parseMac(f.mac) }];
  if (f.dst) attrs.push({ type: NDA.DST, value: ipToBytes(f.dst) });
  if (f.vni !== undefined) attrs.push({ type: NDA.VNI, value: u32(f.vni) });
  // NTF_SELF: the entry belongs to the device's own table (the vxlan driver), not a bridge it is in
  return Buffer.concat([ndmsg(AF.BRIDGE, f.index, NUD.PERMANENT, NTF.SELF), encodeAttrs(attrs)]);
}

const gone = (e: unknown): boolean => e instanceof NetlinkError && (e.code === 'ENOENT' || e.code === 'ENODEV' || e.code === 'ESRCH');

/** Permanent neighbour entry, created or replaced. */
export async function setNeigh(nl: Rtnl, n: { index: number; ip: string; mac: string }): Promise<void> {
  await nl.request(`set neighbour ${n.ip}`, RTM.NEWNEIGH, NLM_F.CREATE | NLM_F.REPLACE, neighBody(n));
}

export async function addNeigh(nl: Rtnl, n: { index: number; ip: string; mac: string }): Promise<void> {
  await nl.request(`add neighbour ${n.ip}`, RTM.NEWNEIGH, NLM_F.CREATE | NLM_F.EXCL, neighBody(n));
}

export async function delNeigh(nl: Rtnl, n: { index: number; ip: string }): Promise<boolean> {
  try {
    await nl.request(`delete neighbour ${n.ip}`, RTM.DELNEIGH, 0, neighBody(n));
    return true;
  } catch (e) {
    if (gone(e)) return false;
    throw e;
  }
}

/** FDB entry on a vxlan device: frames for `mac` go to the VTEP at `dst`. Created or replaced. */
export async function setFdb(nl: Rtnl, f: { index: number; mac: string; dst?: string; vni?: number }): Promise<void> {
  await nl.request(`set fdb ${f.mac}`, RTM.NEWNEIGH, NLM_F.CREATE | NLM_F.REPLACE, fdbBody(f));
}

/** Appends an FDB entry (several destinations for one MAC, e.g. 00:00:00:00:00:00 flooding). */
export async function appendFdb(nl: Rtnl, f: { index: number; mac: string; dst: string }): Promise<void> {
  await nl.request(`append fdb ${f.mac}`, RTM.NEWNEIGH, NLM_F.CREATE | NLM_F.APPEND, fdbBody(f));
}

export async function delFdb(nl: Rtnl, f: { index: number; mac: string; dst?: string }): Promise<boolean> {
  try {
    await nl.request(`delete fdb ${f.mac}`, RTM.DELNEIGH, 0, fdbBody(f));
    return true;
  } catch (e) {
    if (gone(e)) return false;
    throw e;
  }
}

/** Neighbour entries (family 4/6) or FDB entries ('bridge'), optionally for one device. */
export async function listNeigh(nl: Rtnl, family: 4 | 6 | 'bridge', index?: number): Promise<Neigh[]> {
  const fam = family === 4 ? AF.INET : family === 6 ? AF.INET6 : AF.BRIDGE;
  const msgs = await nl.request('list neighbours', RTM.GETNEIGH, NLM_F.DUMP, ndmsg(fam, 0, 0, 0));
  const out: Neigh[] = [];
  for (const m of msgs) {
    if (m.type !== RTM.NEWNEIGH) continue;
    const idx = m.body.readInt32LE(4);
    if (index !== undefined && idx !== index) continue;
    const a = parseAttrs(m.body.subarray(12));
    const dst = a.get(NDA.DST);
    const ll = a.get(NDA.LLADDR);
    const fdb = m.body.readUInt8(0) === AF.BRIDGE;
    out.push({
      index: idx,
      ip: !fdb && dst ? bytesToIp(dst) : undefined,
      dst: fdb && dst ? bytesToIp(dst) : undefined,
      mac: ll && ll.length === 6 ? formatMac(ll) : undefined,
      vni: readU32(a.get(NDA.VNI)),
      state: m.body.readUInt16LE(8),
      flags: m.body.readUInt8(10),
      fdb,
    });
  }
  return out;
}
