// berth-ipam: host-local semantics (ranges, round robin, requested IPs, one address per range set) over
// the file store in ./store.ts. The ipam* functions are also called in-process by other berth plugins
// (lib/cni/invoke.ts) to skip a second Node start-up.
import fs = require('node:fs');
import path = require('node:path');
import { CniError, ErrInternal, ErrInvalidNetworkConfig, ErrPluginNotAvailable, ErrUnknownContainer } from '../errors';
import type { Plugin, PluginContext } from '../skel';
import type { Attachment, IPAMConfig, NetConf, Result } from '../types';
import { Allocation, allocateNext, allocateRequested, rangeFor } from './allocator';
import { canonicalKeys } from '../goconf';
import { DEFAULT_DATA_DIR, IPAM_NET_SHAPE, IPAM_SHAPE, parseIpamConfig, RangeSet } from './ipam-config';
import { Addr, parseIP } from '../../util/ip-address';
import { IpamStore, ownedBy, Owner } from './store';

interface Request {
  addr: Addr;
  field: string;
}

function parseRequest(v: unknown, field: string): Request {
  // "10.1.2.3" or "10.1.2.3/24": the prefix comes from the range, not the request
  const text = typeof v === 'string' ? v.split('/')[0] : '';
  const addr = parseIP(text);
  if (!addr) throw new CniError(ErrInvalidNetworkConfig, `${field}: invalid IP address ${JSON.stringify(v)}`);
  return { addr, field };
}

/** Addresses asked for through runtimeConfig.ips, args.cni.ips or CNI_ARGS IP=a,b. */
function requestedIPs(ctx: PluginContext): Request[] {
  const out: Request[] = [];
  const fromList = (list: unknown, field: string): void => {
    if (list === undefined || list === null) return;
    if (!Array.isArray(list)) throw new CniError(ErrInvalidNetworkConfig, `${field}: expected an array of addresses`);
    list.forEach((v, i) => out.push(parseRequest(v, `${field}[${i}]`)));
  };
  fromList(ctx.config.runtimeConfig?.ips, 'runtimeConfig.ips');
  const cniArgs = (ctx.config.args as { cni?: { ips?: unknown } } | undefined)?.cni;
  fromList(cniArgs?.ips, 'args.cni.ips');
  if (ctx.args.IP) ctx.args.IP.split(',').forEach((v, i) => out.push(parseRequest(v.trim(), `CNI_ARGS IP[${i}]`)));
  return out;
}

/** Matches each request to the one range set that contains it. */
function assignRequests(sets: RangeSet[], reqs: Request[]): Map<number, Request> {
  const bySet = new Map<number, Request>();
  for (const req of reqs) {
    const i = sets.findIndex((s) => rangeFor(s, req.addr) !== undefined);
    if (i < 0) throw new CniError(ErrInvalidNetworkConfig, `${req.field}: address is not in any configured range`);
    if (bySet.has(i)) {
      throw new CniError(ErrInvalidNetworkConfig, `${req.field}: range set ${sets[i].field} already has a requested address (one per range set)`);
    }
    bySet.set(i, req);
  }
  return bySet;
}

function ownerOf(ctx: PluginContext): Owner {
  return { id: ctx.containerId, ifname: ctx.ifname };
}

function missingIpam(): never {
  throw new CniError(ErrInvalidNetworkConfig, 'ipam: missing IPAM configuration');
}

/**
 * The context and IPAM section with host-local's keys as Go reads them. The skel did that for berth-ipam's
 * own process; a plugin delegating in-process hands over its config as it read it.
 */
function hostLocalView(ctx: PluginContext, ipamConf: IPAMConfig): { ctx: PluginContext; ipam: IPAMConfig } {
  return { ctx: { ...ctx, config: canonicalKeys(ctx.config, IPAM_NET_SHAPE) as NetConf }, ipam: canonicalKeys(ipamConf, IPAM_SHAPE) as IPAMConfig };
}

function settingsOf(ctx: PluginContext, ipam: IPAMConfig): ReturnType<typeof parseIpamConfig> {
  return parseIpamConfig(ipam, ctx.config.runtimeConfig?.ipRanges);
}

export async function ipamAdd(rawCtx: PluginContext, rawIpam: IPAMConfig): Promise<Result> {
  const { ctx, ipam: ipamConf } = hostLocalView(rawCtx, rawIpam);
  const settings = settingsOf(ctx, ipamConf);
  const requests = assignRequests(settings.rangeSets, requestedIPs(ctx));
  // loaded only when configured: every module costs start-up time in each plugin process
  const dns = settings.resolvConf ? (require('./resolv') as typeof import('./resolv')).readResolvConf(settings.resolvConf) : undefined;
  const store = new IpamStore(settings.dataDir, ctx.config.name);
  const owner = ownerOf(ctx);

  const allocations = store.withLock((): Allocation[] => {
    // one listing for both: what is taken, and whether this attachment already holds an address
    const allocated = store.allocations();
    const taken = new Set(allocated.keys());
    // the spec forbids a second ADD for the same attachment without a DEL in between
    for (const ip of ownedBy(allocated, owner)) {
      const a = parseIP(ip)!;
      if (settings.rangeSets.some((s) => rangeFor(s, a))) {
        throw new CniError(ErrInternal, `${ip} is already allocated to ${owner.id}/${owner.ifname}: duplicate allocation is not allowed`);
      }
    }
    const done: Allocation[] = [];
    try {
      settings.rangeSets.forEach((set, i) => {
        const req = requests.get(i);
        const a = req ? allocateRequested(set, req.addr, req.field, taken) : allocateNext(set, store.lastReserved(i), taken);
        if (!store.reserve(a.ip, owner)) throw new CniError(ErrInternal, `${a.ip}: allocation file appeared while locked`);
        done.push(a);
        taken.add(a.ip);
        store.setLastReserved(i, a.ip);
      });
    } catch (e) {
      // all range sets or none: give back what this call took
      for (const a of done) store.release(a.ip);
      throw e;
    }
    return done;
  });

  const result: Result = { cniVersion: '1.1.0', ips: allocations.map((a) => a.config) };
  if (settings.routes.length) result.routes = settings.routes;
  if (dns && Object.keys(dns).length) result.dns = dns;
  return result;
}

/** The store for DEL and GC: tolerant of a config that no longer validates, since cleanup must work. */
function lenientStore(ctx: PluginContext, ipamConf: IPAMConfig): IpamStore {
  const dataDir = typeof ipamConf.dataDir === 'string' && ipamConf.dataDir ? ipamConf.dataDir : DEFAULT_DATA_DIR;
  return new IpamStore(dataDir, ctx.config.name);
}

export async function ipamDel(rawCtx: PluginContext, rawIpam: IPAMConfig): Promise<void> {
  const { ctx, ipam: ipamConf } = hostLocalView(rawCtx, rawIpam);
  const store = lenientStore(ctx, ipamConf);
  const owner = ownerOf(ctx);
  if (!store.exists()) return;
  store.withLock(() => {
    for (const ip of store.byOwner(owner)) store.release(ip);
  });
}

export async function ipamCheck(rawCtx: PluginContext, rawIpam: IPAMConfig): Promise<void> {
  const { ctx, ipam: ipamConf } = hostLocalView(rawCtx, rawIpam);
  const settings = settingsOf(ctx, ipamConf);
  const store = new IpamStore(settings.dataDir, ctx.config.name);
  const owner = ownerOf(ctx);
  const ips = store.withLock(() => store.byOwner(owner));
  if (ips.length === 0) {
    throw new CniError(ErrUnknownContainer, `no address allocated to ${owner.id}/${owner.ifname} in network ${ctx.config.name}`);
  }
  for (const set of settings.rangeSets) {
    if (!ips.some((ip) => rangeFor(set, parseIP(ip)!))) {
      throw new CniError(ErrUnknownContainer, `no address allocated to ${owner.id}/${owner.ifname} in range set ${set.field}`);
    }
  }
}

export async function ipamGC(ctx: PluginContext & { validAttachments: Attachment[] }, rawIpam: IPAMConfig): Promise<void> {
  const store = lenientStore(ctx, canonicalKeys(rawIpam, IPAM_SHAPE) as IPAMConfig);
  if (!store.exists()) return;
  const valid = new Set(ctx.validAttachments.map((a) => `${a.containerID}\0${a.ifname}`));
  store.withLock(() => {
    for (const [ip, o] of store.allocations()) {
      if (!valid.has(`${o.id}\0${o.ifname}`)) store.release(ip);
    }
  });
}

/**
 * STATUS: ready when ADD could record an allocation, i.e. the network's directory under dataDir can be
 * created and written. Probed by writing a file, since access(2) says yes to root on most failures that
 * matter (a read-only or full file system, a file where a directory should be).
 */
export async function ipamStatus(rawCtx: PluginContext, rawIpam: IPAMConfig): Promise<void> {
  const { ctx, ipam: ipamConf } = hostLocalView(rawCtx, rawIpam);
  const settings = settingsOf(ctx, ipamConf);
  const dir = path.join(settings.dataDir, ctx.config.name);
  const probe = path.join(dir, `.status-${process.pid}`);
  try {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(probe, '');
    fs.unlinkSync(probe);
  } catch (e) {
    throw new CniError(ErrPluginNotAvailable, `dataDir: cannot write allocations to ${dir}`, (e as Error).message);
  }
}

export const plugin: Plugin<NetConf> = {
  configShape: IPAM_NET_SHAPE,
  add: (ctx) => ipamAdd(ctx, ctx.config.ipam ?? missingIpam()),
  del: (ctx) => ipamDel(ctx, ctx.config.ipam ?? missingIpam()),
  check: (ctx) => ipamCheck(ctx, ctx.config.ipam ?? missingIpam()),
  gc: (ctx) => ipamGC(ctx, ctx.config.ipam ?? missingIpam()),
  status: (ctx) => ipamStatus(ctx, ctx.config.ipam ?? missingIpam()),
};

export const ABOUT = 'berth-ipam: host-local IP address management for CNI (berth)';
