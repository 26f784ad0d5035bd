// cniVersion negotiation and result conversion. Internally every result has the 1.1.0 shape;
// convertResult writes it in the version a caller asked for, parseResult reads any version back.
import { CniError, ErrDecodingFailure, ErrIncompatibleVersion } from './errors';
import { canonicalKeys, RESULT_SHAPE } from './goconf';
import type { DNS, IPConfig, Interface, Result, Route } from './types';

export const SUPPORTED_VERSIONS: string[] = ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'];
export const CURRENT_VERSION = '1.1.0';

/** Compares dotted versions numerically: <0, 0, >0. An empty version means 0.1.0 (as in the reference). */
export function compareVersions(a: string, b: string): number {
  const pa = (a || '0.1.0').split('.').map(Number);
  const pb = (b || '0.1.0').split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

export function isValidVersion(v: unknown): v is string {
  return typeof v === 'string' && /^\d+\.\d+\.\d+$/.test(v);
}

/** The highest version present in both lists, or undefined. */
export function highestCommon(wanted: string[], supported: string[] = SUPPORTED_VERSIONS): string | undefined {
  return wanted.filter((v) => supported.includes(v)).sort(compareVersions).pop();
}

function family(address: string): '4' | '6' {
  return address.includes(':') ? '6' : '4';
}

function plainRoute(r: Route): Route {
  return r.gw === undefined ? { dst: r.dst } : { dst: r.dst, gw: r.gw };
}

function withoutEmpty(out: Record<string, unknown>): object {
  for (const k of Object.keys(out)) {
    const v = out[k];
    if (v === undefined || (Array.isArray(v) && v.length === 0)) delete out[k];
  }
  return out;
}

/** The 1.1.0-shaped result as JSON of `toVersion`. Fields a version lacks are dropped. */
export function convertResult(r: Result, toVersion: string): object {
  const base = { cniVersion: toVersion, interfaces: r.interfaces, dns: r.dns };
  if (toVersion === '1.1.0') {
    return withoutEmpty({ ...base, ips: r.ips, routes: r.routes });
  }
  if (toVersion === '1.0.0') {
    // mtu, advmss, priority, table and scope on routes arrived in 1.1.0
    return withoutEmpty({ ...base, ips: r.ips, routes: r.routes?.map(plainRoute) });
  }
  if (toVersion === '0.3.0' || toVersion === '0.3.1' || toVersion === '0.4.0') {
    // 0.3.x/0.4.0 carry the address family in each ip as "version"
    const ips = r.ips?.map((ip) => ({ version: family(ip.address), ...ip }));
    return withoutEmpty({ ...base, ips, routes: r.routes?.map(plainRoute) });
  }
  if (toVersion === '0.1.0' || toVersion === '0.2.0') {
    // one address per family, routes grouped by family, no interfaces
    const legacy = (fam: '4' | '6'): object | undefined => {
      const ip = r.ips?.find((i) => family(i.address) === fam);
      if (!ip) return undefined;
      const routes = r.routes?.filter((rt) => family(rt.dst) === fam).map(plainRoute);
      return withoutEmpty({ ip: ip.address, gateway: ip.gateway, routes });
    };
    return withoutEmpty({ cniVersion: toVersion, ip4: legacy('4'), ip6: legacy('6'), dns: r.dns });
  }
  throw new CniError(ErrIncompatibleVersion, `cannot convert a result to unknown cniVersion "${toVersion}"`);
}

function obj(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new CniError(ErrDecodingFailure, `${what}: expected an object`);
  }
  return v as Record<string, unknown>;
}

function str(v: unknown, what: string): string {
  if (typeof v !== 'string' || v === '') throw new CniError(ErrDecodingFailure, `${what}: expected a string`);
  return v;
}

function arr(v: unknown, what: string): unknown[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) throw new CniError(ErrDecodingFailure, `${what}: expected an array`);
  return v;
}

function parseRoute(v: unknown, what: string): Route {
  const o = obj(v, what);
  const r: Route = { dst: str(o.dst, `${what}.dst`) };
  if (o.gw !== undefined) r.gw = str(o.gw, `${what}.gw`);
  for (const k of ['mtu', 'advmss', 'priority', 'table', 'scope'] as const) {
    if (typeof o[k] === 'number') r[k] = o[k] as number;
  }
  return r;
}

function parseDNS(v: unknown): DNS | undefined {
  if (v === undefined || v === null) return undefined;
  const o = obj(v, 'dns');
  const d: DNS = {};
  if (Array.isArray(o.nameservers)) d.nameservers = o.nameservers.map(String);
  if (typeof o.domain === 'string') d.domain = o.domain;
  if (Array.isArray(o.search)) d.search = o.search.map(String);
  if (Array.isArray(o.options)) d.options = o.options.map(String);
  return Object.keys(d).length ? d : undefined;
}

/** Reads a result of any version (0.1.0 to 1.1.0) into the 1.1.0 shape. */
export function parseResult(json: unknown): Result {
  // prevResult from a Go runtime: the reference decodes it into types100.Result, keys in any case
  const o = obj(canonicalKeys(json, RESULT_SHAPE), 'result');
  const out: Result = { cniVersion: CURRENT_VERSION };
  const dns = parseDNS(o.dns);
  if (o.ip4 !== undefined || o.ip6 !== undefined) {
    // 0.1.0/0.2.0: {ip4: {ip, gateway, routes}, ip6: ...}
    out.ips = [];
    out.routes = [];
    for (const k of ['ip4', 'ip6'] as const) {
      if (o[k] === undefined || o[k] === null) continue;
      const l = obj(o[k], k);
      const ip: IPConfig = { address: str(l.ip, `${k}.ip`) };
      if (l.gateway !== undefined) ip.gateway = str(l.gateway, `${k}.gateway`);
      out.ips.push(ip);
      arr(l.routes, `${k}.routes`)?.forEach((r, i) => out.routes!.push(parseRoute(r, `${k}.routes[${i}]`)));
    }
  } else {
    const ifs = arr(o.interfaces, 'interfaces');
    if (ifs) {
      out.interfaces = ifs.map((v, i): Interface => {
        const io = obj(v, `interfaces[${i}]`);
        const itf: Interface = { name: str(io.name, `interfaces[${i}].name`) };
        for (const k of ['mac', 'sandbox', 'socketPath', 'pciID'] as const) {
          if (typeof io[k] === 'string' && io[k] !== '') itf[k] = io[k] as string;
        }
        if (typeof io.mtu === 'number') itf.mtu = io.mtu;
        return itf;
      });
    }
    const ips = arr(o.ips, 'ips');
    if (ips) {
      out.ips = ips.map((v, i): IPConfig => {
        const io = obj(v, `ips[${i}]`);
        const ip: IPConfig = { address: str(io.address, `ips[${i}].address`) };
        if (io.gateway !== undefined && io.gateway !== '') ip.gateway = str(io.gateway, `ips[${i}].gateway`);
        if (typeof io.interface === 'number') ip.interface = io.interface;
        return ip;
      });
    }
    const routes = arr(o.routes, 'routes');
    if (routes) out.routes = routes.map((r, i) => parseRoute(r, `routes[${i}]`));
  }
  if (dns) out.dns = dns;
  if (out.ips?.length === 0) delete out.ips;
  if (out.routes?.length === 0) delete out.routes;
  return out;
}
