// Interface addresses (RTM_*ADDR), IPv4 and IPv6.
import { Attr, encodeAttrs, parseAttrs, readU32, u32 } from './nl/attrs';
import { AF, IFA, IFA_F, NLM_F, RTM } from './nl/constants';
import { NetlinkError, Rtnl } from './nl/socket';
import { broadcastOf, bytesToIp, ipToBytes, parseCidr } from '../../util/ip-address';

export interface Address { index: number; family: 4 | 6; cidr: string; ip: string; prefix: number; scope: number; flags: number }

export interface AddrOptions {
  /** IPv6: skip duplicate address detection so the address is usable at once */
  nodad?: boolean;
  /** do not add the connected route for the prefix */
  noPrefixRoute?: boolean;
  /** replace instead of failing with EEXIST */
  replace?: boolean;
  scope?: number;
}

function ifaddrmsg(family: number, prefix: number, index: number, scope = 0): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt8(family, 0);
  b.writeUInt8(prefix, 1);
  b.writeUInt8(scope, 3);
  b.writeUInt32LE(index, 4);
  return b;
}

function body(index: number, cidr: string, o: AddrOptions): Buffer {
  const c = parseCidr(cidr);
  const ip = ipToBytes(c.ip);
  const attrs: Attr[] = [{ type: IFA.LOCAL, value: ip }, { type: IFA.ADDRESS, value: ip }];
  if (c.family === 4 && c.prefix < 31) attrs.push({ type: IFA.BROADCAST, value: ipToBytes(broadcastOf(c)) });
  let flags = 0;
  if (o.nodad) flags |= IFA_F.NODAD;
  if (o.noPrefixRoute) flags |= IFA_F.NOPREFIXROUTE;
  if (flags) attrs.push({ type: IFA.FLAGS, value: u32(flags) });
  return Buffer.concat([ifaddrmsg(c.family === 4 ? AF.INET : AF.INET6, c.prefix, index, o.scope), encodeAttrs(attrs)]);
}

export async function addAddr(nl: Rtnl, index: number, cidr: string, o: AddrOptions = {}): Promise<void> {
  await nl.request(`add address ${cidr}`, RTM.NEWADDR, NLM_F.CREATE | (o.replace ? NLM_F.REPLACE : NLM_F.EXCL), body(index, cidr, o));
}

/** Removes the address; false when it was not there. */
export async function delAddr(nl: Rtnl, index: number, cidr: string): Promise<boolean> {
  try {
    await nl.request(`delete address ${cidr}`, RTM.DELADDR, 0, body(index, cidr, {}));
    return true;
  } catch (e) {
    if (e instanceof NetlinkError && (e.code === 'EADDRNOTAVAIL' || e.code === 'ENODEV')) return false;
    throw e;
  }
}

export async function listAddrs(nl: Rtnl, filter: { index?: number; family?: 4 | 6 } = {}): Promise<Address[]> {
  const fam = filter.family === 4 ? AF.INET : filter.family === 6 ? AF.INET6 : AF.UNSPEC;
  const msgs = await nl.request('list addresses', RTM.GETADDR, NLM_F.DUMP, ifaddrmsg(fam, 0, 0));
  const out: Address[] = [];
  for (const m of msgs) {
    if (m.type !== RTM.NEWADDR) continue;
    const family = m.body.readUInt8(0) === AF.INET ? 4 : 6;
    const prefix = m.body.readUInt8(1);
    const index = m.body.readUInt32LE(4);
    if (filter.index !== undefined && index !== filter.index) continue;
    const a = parseAttrs(m.body.subarray(8));
    const raw = a.get(IFA.LOCAL) ?? a.get(IFA.ADDRESS);
    if (!raw) continue;
    const ip = bytesToIp(raw);
    out.push({ index, family, ip, prefix, cidr: `${ip}/${prefix}`, scope: m.body.readUInt8(3), flags: readU32(a.get(IFA.FLAGS)) ?? m.body.readUInt8(2) });
  }
  return out;
}
