// berth-ipam's configuration (the reference host-local's): parsed, defaulted and validated up front so
// that a bad config fails with code 7 naming the field, before anything is allocated.
import { CniError, ErrInvalidNetworkConfig } from '../errors';
import { GoShape, ROUTE_SHAPE } from '../goconf';
import type { IPAMConfig, Route } from '../types';
import { Addr, Family, contains, formatPrefix, lastAddr, networkAddr, parseIP, parsePrefix, parseSpan, Prefix } from '../../util/ip-address';

export const DEFAULT_DATA_DIR = '/var/lib/cni/networks';

// host-local's structs (backend/allocator/config.go): Range, IPAMConfig (which embeds the legacy Range),
// and the Net around it with the capability arguments and args.cni.ips. "exclude" is berth's own.
const RANGE_SHAPE: GoShape = { rangeStart: true, rangeEnd: true, subnet: true, gateway: true, exclude: true };
export const IPAM_SHAPE: GoShape = {
  rangeStart: true, rangeEnd: true, subnet: true, gateway: true,
  type: true, routes: [ROUTE_SHAPE], dataDir: true, resolvConf: true, ranges: [[RANGE_SHAPE]], exclude: true,
};
export const IPAM_NET_SHAPE: GoShape = {
  ipam: IPAM_SHAPE, runtimeConfig: { ipRanges: [[RANGE_SHAPE]], ips: true }, args: { cni: { ips: true } },
};

export interface Range {
  subnet: Prefix;
  start: Addr;
  end: Addr;
  gateway?: Addr;
  /** the field path, for messages: "ipam.ranges[0][1]" */
  field: string;
}

export interface RangeSet {
  family: Family;
  ranges: Range[];
  /** addresses never handed out: network, broadcast, gateways, `exclude` entries */
  excluded: { first: bigint; last: bigint }[];
  field: string;
}

export interface IpamSettings {
  rangeSets: RangeSet[];
  routes: Route[];
  dataDir: string;
  resolvConf?: string;
}

function fail(field: string, msg: string): never {
  throw new CniError(ErrInvalidNetworkConfig, `${field}: ${msg}`);
}

function addrField(v: unknown, field: string, family: Family): Addr | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  const a = typeof v === 'string' ? parseIP(v) : undefined;
  if (!a) fail(field, `invalid IP address ${JSON.stringify(v)}`);
  if (a.family !== family) fail(field, `${v} is not an IPv${family} address like the subnet`);
  return a;
}

function parseRange(raw: unknown, field: string): Range {
  if (typeof raw !== 'object' || raw === null) fail(field, 'expected an object with a subnet');
  const r = raw as Record<string, unknown>;
  const subnet = typeof r.subnet === 'string' ? parsePrefix(r.subnet) : undefined;
  if (!subnet) fail(`${field}.subnet`, `invalid subnet ${JSON.stringify(r.subnet)} (want a CIDR like 10.1.0.0/24)`);
  const fam = subnet.ip.family;
  const net = networkAddr(subnet);
  if (net.n !== subnet.ip.n) fail(`${field}.subnet`, `${r.subnet} has host bits set (network is ${formatPrefix({ ip: net, len: subnet.len })})`);
  // need room for at least a gateway and one address besides network and broadcast
  if (subnet.len > (fam === 4 ? 30 : 126)) fail(`${field}.subnet`, `${r.subnet} is too small to allocate from`);
  const last = lastAddr(subnet);
  const start = addrField(r.rangeStart, `${field}.rangeStart`, fam) ?? { family: fam, n: net.n + 1n };
  // IPv4 loses the broadcast address; IPv6 has none
  const end = addrField(r.rangeEnd, `${field}.rangeEnd`, fam) ?? { family: fam, n: fam === 4 ? last.n - 1n : last.n };
  if (!contains(subnet, start) || start.n === net.n) fail(`${field}.rangeStart`, `${r.rangeStart} is not a usable address of ${r.subnet}`);
  if (!contains(subnet, end) || (fam === 4 && end.n === last.n)) fail(`${field}.rangeEnd`, `${r.rangeEnd} is not a usable address of ${r.subnet}`);
  if (start.n > end.n) fail(`${field}.rangeStart`, `${r.rangeStart ?? 'start'} is after rangeEnd ${r.rangeEnd ?? 'end'}`);
  const gateway = addrField(r.gateway, `${field}.gateway`, fam) ?? { family: fam, n: net.n + 1n };
  // host-local takes any gateway and the bridge then fails late (its route or address cannot be added)
  // after the address was allocated: an address outside the subnet cannot be the subnet's gateway
  if (!contains(subnet, gateway) || gateway.n === net.n || (fam === 4 && gateway.n === last.n)) {
    fail(`${field}.gateway`, `${r.gateway} is not a usable address of ${r.subnet}`);
  }
  return { subnet, start, end, gateway, field };
}

function parseExcludes(raw: unknown, field: string): { family: Family; first: bigint; last: bigint }[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) fail(field, 'expected an array of addresses or CIDRs');
  return raw.map((e, i) => parseSpan(e as string) ?? fail(`${field}[${i}]`, `invalid address or CIDR ${JSON.stringify(e)}`));
}

function parseRoutes(raw: unknown): Route[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) fail('ipam.routes', 'expected an array');
  return raw.map((r: Record<string, unknown>, i): Route => {
    const f = `ipam.routes[${i}]`;
    if (typeof r !== 'object' || r === null) fail(f, 'expected an object with dst');
    if (typeof r.dst !== 'string' || !parsePrefix(r.dst)) fail(`${f}.dst`, `invalid destination ${JSON.stringify(r.dst)}`);
    const out: Route = { dst: r.dst };
    if (r.gw !== undefined) {
      if (typeof r.gw !== 'string' || !parseIP(r.gw)) fail(`${f}.gw`, `invalid gateway ${JSON.stringify(r.gw)}`);
      out.gw = r.gw;
    }
    return out;
  });
}

function overlaps(a: Range, b: Range): boolean {
  return a.start.family === b.start.family && a.start.n <= b.end.n && b.start.n <= a.end.n;
}

/** Range sets given as a list (ipam.ranges, runtimeConfig.ipRanges), each with its field path. */
function rangeSetList(v: unknown, field: string): { set: unknown[]; field: string }[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) fail(field, 'expected an array of range sets (arrays of ranges)');
  return v.map((set, i) => {
    if (!Array.isArray(set) || set.length === 0) fail(`${field}[${i}]`, 'expected a non-empty array of ranges');
    return { set, field: `${field}[${i}]` };
  });
}

/**
 * ipam: the network's IPAM section; runtimeRanges: runtimeConfig.ipRanges (the capability argument),
 * which host-local puts before the configured ranges.
 */
export function parseIpamConfig(ipam: IPAMConfig, runtimeRanges?: unknown): IpamSettings {
  const raw = rangeSetList(runtimeRanges, 'runtimeConfig.ipRanges');
  // then the legacy single range, then ranges, as in the reference
  if (ipam.subnet !== undefined) {
    raw.push({ set: [{ subnet: ipam.subnet, rangeStart: ipam.rangeStart, rangeEnd: ipam.rangeEnd, gateway: ipam.gateway }], field: 'ipam' });
  }
  raw.push(...rangeSetList(ipam.ranges, 'ipam.ranges'));
  if (raw.length === 0) fail('ipam.ranges', 'no IP ranges specified (set ranges or subnet)');
  const globalExcludes = parseExcludes(ipam.exclude, 'ipam.exclude');

  const rangeSets = raw.map(({ set, field: setField }): RangeSet => {
    const ranges = set.map((r, ri) => parseRange(r, setField === 'ipam' ? 'ipam' : `${setField}[${ri}]`));
    const family = ranges[0].subnet.ip.family;
    for (const r of ranges) {
      if (r.subnet.ip.family !== family) fail(`${r.field}.subnet`, 'all ranges of a range set must be of one address family');
    }
    const excluded: { first: bigint; last: bigint }[] = [];
    for (const r of ranges) {
      excluded.push({ first: networkAddr(r.subnet).n, last: networkAddr(r.subnet).n });
      if (family === 4) excluded.push({ first: lastAddr(r.subnet).n, last: lastAddr(r.subnet).n });
      if (r.gateway) excluded.push({ first: r.gateway.n, last: r.gateway.n });
      const own = parseExcludes((set[ranges.indexOf(r)] as Record<string, unknown>).exclude, `${r.field}.exclude`);
      excluded.push(...own.filter((e) => e.family === family));
    }
    excluded.push(...globalExcludes.filter((e) => e.family === family));
    return { family, ranges, excluded, field: setField };
  });

  const all = rangeSets.flatMap((s) => s.ranges);
  for (let i = 0; i < all.length; i++) {
    for (let j = i + 1; j < all.length; j++) {
      if (overlaps(all[i], all[j])) fail(all[j].field, `range overlaps ${all[i].field}`);
    }
  }
  const dataDir = ipam.dataDir ?? DEFAULT_DATA_DIR;
  if (typeof dataDir !== 'string' || !dataDir.startsWith('/')) fail('ipam.dataDir', 'expected an absolute path');
  if (ipam.resolvConf !== undefined && typeof ipam.resolvConf !== 'string') fail('ipam.resolvConf', 'expected a file path');
  return { rangeSets, routes: parseRoutes(ipam.routes), dataDir, resolvConf: ipam.resolvConf as string | undefined };
}
