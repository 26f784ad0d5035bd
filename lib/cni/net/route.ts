// Routes (RTM_*ROUTE): unicast via gateway or device, onlink, scope, protocol, table, blackhole.
import { Attr, encodeAttrs, parseAttrs, readU32, u32 } from './nl/attrs';
import { AF, NLM_F, RTA, RTAX, RTM, RTN, RTNH_F_ONLINK, RTPROT, RT_SCOPE, RT_TABLE } from './nl/constants';
import { NetlinkError, Rtnl, type NlRequest } from './nl/socket';
import { bytesToIp, ipFamily, ipToBytes, parseCidr } from '../../util/ip-address';

export type RouteType = 'unicast' | 'local' | 'blackhole' | 'unreachable' | 'prohibit';
const TYPES: Record<RouteType, number> = { unicast: RTN.UNICAST, local: RTN.LOCAL, blackhole: RTN.BLACKHOLE, unreachable: RTN.UNREACHABLE, prohibit: RTN.PROHIBIT };

export interface RouteSpec {
  /** destination CIDR; "0.0.0.0/0" or "::/0" for a default route */
  dst: string;
  gw?: string;
  /** output ifindex */
  dev?: number;
  src?: string;
  /** RT_SCOPE_* number; defaults to link for device routes without a gateway, universe otherwise */
  scope?: number;
  /** the gateway is reachable on dev even though no address covers it */
  onlink?: boolean;
  protocol?: number;
  table?: number;
  type?: RouteType;
  priority?: number;
  mtu?: number;
  advmss?: number;
}

/** one next hop of a multipath route (RTA_MULTIPATH) */
export interface NextHopEntry { gw?: string; dev?: number; onlink: boolean }

export interface RouteEntry extends RouteSpec {
  family: 4 | 6;
  type: RouteType;
  /** a multipath (ECMP) route's next hops; gw and dev are then unset */
  multipath?: NextHopEntry[];
}

/** RTA_MULTIPATH: struct rtnexthop {len u16, flags u8, hops u8, ifindex i32} then its attributes, each */
function parseMultipath(b: Buffer): NextHopEntry[] {
  const out: NextHopEntry[] = [];
  for (let off = 0; off + 8 <= b.length;) {
    const len = b.readUInt16LE(off);
    if (len < 8) break;
    const a = parseAttrs(b.subarray(off + 8, off + len));
    const gw = a.get(RTA.GATEWAY);
    const dev = b.readInt32LE(off + 4);
    out.push({ gw: gw ? bytesToIp(gw) : undefined, dev: dev > 0 ? dev : undefined, onlink: (b[off + 2] & RTNH_F_ONLINK) !== 0 });
    off += (len + 3) & ~3;
  }
  return out;
}

function msg(r: RouteSpec, forDelete: boolean): Buffer {
  const d = parseCidr(r.dst);
  if (r.gw && ipFamily(r.gw) !== d.family) throw new Error(`route ${r.dst}: gateway ${r.gw} is not the same IP family`);
  const type = r.type ?? 'unicast';
  const table = r.table ?? RT_TABLE.MAIN;
  const scope = r.scope ?? (forDelete ? RT_SCOPE.NOWHERE : type === 'unicast' && !r.gw && r.dev !== undefined ? RT_SCOPE.LINK : RT_SCOPE.UNIVERSE);
  const h = Buffer.alloc(12);
  h.writeUInt8(d.family === 4 ? AF.INET : AF.INET6, 0);
  h.writeUInt8(d.prefix, 1);
  h.writeUInt8(table < 256 ? table : RT_TABLE.COMPAT, 4);
  h.writeUInt8(r.protocol ?? (forDelete ? RTPROT.UNSPEC : RTPROT.BOOT), 5);
  h.writeUInt8(scope, 6);
  h.writeUInt8(TYPES[type], 7);
  h.writeUInt32LE(r.onlink ? RTNH_F_ONLINK : 0, 8);
  const attrs: Attr[] = [{ type: RTA.TABLE, value: u32(table) }];
  if (d.prefix > 0) attrs.push({ type: RTA.DST, value: ipToBytes(d.ip) });
  if (r.gw) attrs.push({ type: RTA.GATEWAY, value: ipToBytes(r.gw) });
  if (r.dev !== undefined) attrs.push({ type: RTA.OIF, value: u32(r.dev) });
  if (r.src) attrs.push({ type: RTA.PREFSRC, value: ipToBytes(r.src) });
  if (r.priority !== undefined) attrs.push({ type: RTA.PRIORITY, value: u32(r.priority) });
  const metrics: Attr[] = [];
  if (r.mtu) metrics.push({ type: RTAX.MTU, value: u32(r.mtu) });
  if (r.advmss) metrics.push({ type: RTAX.ADVMSS, value: u32(r.advmss) });
  if (metrics.length) attrs.push({ type: RTA.METRICS, value: metrics });
  return Buffer.concat([h, encodeAttrs(attrs)]);
}

export async function addRoute(nl: Rtnl, r: RouteSpec): Promise<void> {
  await nl.request(`add route ${r.dst}`, RTM.NEWROUTE, NLM_F.CREATE | NLM_F.EXCL, msg(r, false));
}

export async function replaceRoute(nl: Rtnl, r: RouteSpec): Promise<void> {
  await nl.request(`replace route ${r.dst}`, RTM.NEWROUTE, NLM_F.CREATE | NLM_F.REPLACE, msg(r, false));
}

/** Deletes the route; false when no such route exists. */
export async function delRoute(nl: Rtnl, r: RouteSpec): Promise<boolean> {
  try {
    await nl.request(`delete route ${r.dst}`, RTM.DELROUTE, 0, msg(r, true));
    return true;
  } catch (e) {
    if (e instanceof NetlinkError && (e.code === 'ESRCH' || e.code === 'ENOENT' || e.code === 'ENODEV')) return false;
    throw e;
  }
}

/** What a dump is asked for. The kernel applies it itself on a strict-check socket (RouteSocket(true), nl/route-socket.ts); on any other it is applied here. */
export interface RouteFilter {
  /** table id; 0 = every table (the default: main) */
  table?: number;
  protocol?: number;
  type?: RouteType;
}

const TYPE_NAMES = Object.fromEntries(Object.entries(TYPES).map(([k, v]) => [v, k])) as Record<number, RouteType>;

/**
 * RTM_GETROUTE dump request for one family. Its header and RTA_TABLE carry the filter, as the kernel's
 * strict dump check (ip_valid_fib_dump_req) reads them; a socket without strict checking ignores them.
 */
function dumpRequest(family: 4 | 6, f: RouteFilter): Buffer {
  const table = f.table ?? RT_TABLE.MAIN;
  const h = Buffer.alloc(table ? 20 : 12);
  h.writeUInt8(family === 4 ? AF.INET : AF.INET6, 0);
  h.writeUInt8(table < 256 ? table : RT_TABLE.COMPAT, 4);
  h.writeUInt8(f.protocol ?? 0, 5);
  h.writeUInt8(f.type ? TYPES[f.type] : 0, 7);
  if (table) {
    h.writeUInt16LE(8, 12);
    h.writeUInt16LE(RTA.TABLE, 14);
    h.writeUInt32LE(table, 16);
  }
  return h;
}

/** One RTM_NEWROUTE body as a RouteEntry, or undefined when the filter rejects it. */
function parseRoute(family: 4 | 6, b: Buffer, f: RouteFilter): RouteEntry | undefined {
  const want = f.table ?? RT_TABLE.MAIN;
  const type = TYPE_NAMES[b.readUInt8(7)] ?? 'unicast';
  if ((f.protocol !== undefined && b.readUInt8(5) !== f.protocol) || (f.type !== undefined && type !== f.type)) return undefined;
  const a = parseAttrs(b.subarray(12));
  const t = readU32(a.get(RTA.TABLE)) ?? b.readUInt8(4);
  if (want !== 0 && t !== want) return undefined;
  const dst = a.get(RTA.DST);
  const gw = a.get(RTA.GATEWAY);
  const src = a.get(RTA.PREFSRC);
  const metrics = a.get(RTA.METRICS) ? parseAttrs(a.get(RTA.METRICS)!) : undefined;
  const mp = a.get(RTA.MULTIPATH);
  return {
    family,
    dst: `${dst ? bytesToIp(dst) : family === 4 ? '0.0.0.0' : '::'}/${b.readUInt8(1)}`,
    gw: gw ? bytesToIp(gw) : undefined,
    dev: readU32(a.get(RTA.OIF)),
    src: src ? bytesToIp(src) : undefined,
    table: t,
    protocol: b.readUInt8(5),
    scope: b.readUInt8(6),
    type,
    onlink: (b.readUInt32LE(8) & RTNH_F_ONLINK) !== 0,
    priority: readU32(a.get(RTA.PRIORITY)),
    mtu: readU32(metrics?.get(RTAX.MTU)),
    advmss: readU32(metrics?.get(RTAX.ADVMSS)),
    ...(mp ? { multipath: parseMultipath(mp) } : {}),
  };
}

/**
 * Streams the routes of one family to `each` as the dump arrives (one datagram, a few hundred routes, at a
 * time): a whole table never sits in memory. `table` defaults to main, 0 = every table. Returns whether
 * the kernel filtered the dump itself (NLM_F_DUMP_FILTERED: a strict-check socket honoured the filter).
 */
export async function eachRoute(nl: Rtnl, family: 4 | 6, filter: RouteFilter | number, each: (r: RouteEntry) => void): Promise<{ kernelFiltered: boolean }> {
  const f = typeof filter === 'number' ? { table: filter } : filter;
  let kernelFiltered = false;
  await nl.dump('list routes', RTM.GETROUTE, dumpRequest(family, f), (type, flags, body) => {
    if (type !== RTM.NEWROUTE) return;
    if (flags & NLM_F.DUMP_FILTERED) kernelFiltered = true;
    const r = parseRoute(family, body, f);
    if (r) each(r);
  });
  return { kernelFiltered };
}

/** Routes of one family; table defaults to main, 0 lists all tables. */
export async function listRoutes(nl: Rtnl, family: 4 | 6, filter: RouteFilter | number = RT_TABLE.MAIN): Promise<RouteEntry[]> {
  const out: RouteEntry[] = [];
  await eachRoute(nl, family, filter, (r) => out.push(r));
  return out;
}
