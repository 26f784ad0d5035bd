// berth-portmap: a chained plugin (it needs prevResult) that forwards node ports to the container's
// address, as the reference portmap plugin does, with nftables rules owned by the attachment.
import { CniError, ErrInternal, ErrInvalidNetworkConfig } from '../errors';
import type { Plugin, PluginContext } from '../skel';
import type { Attachment, NetConf, Result } from '../types';
import { parsePortmapConfig, PORTMAP_SHAPE } from './portmap-config';
import { parseCidr } from '../../util/ip-address';
// the rule layer (node:crypto, nft) loads on the verb that needs it, not for VERSION
import { firewall, owner } from './veth-steps';

export const ABOUT = 'berth-portmap: CNI port-mapping plugin (chained; reference portmap semantics)';

type Ctx = PluginContext<NetConf>;

function needPrev(ctx: Ctx): Result {
  const prev = ctx.config.prevResult;
  if (!prev) throw new CniError(ErrInvalidNetworkConfig, 'prevResult: berth-portmap must follow a plugin that returns a result');
  return prev;
}

/** The container's addresses: those of sandbox interfaces, or all when the result names no interfaces. */
function containerAddrs(prev: Result): string[] {
  const ifaces = prev.interfaces ?? [];
  return (prev.ips ?? [])
    .filter((ip) => ip.interface === undefined || ifaces[ip.interface]?.sandbox !== undefined)
    .map((ip) => ip.address);
}

async function add(ctx: Ctx): Promise<Result> {
  const conf = parsePortmapConfig(ctx.config);
  const prev = needPrev(ctx);
  if (conf.mappings.length === 0) return prev;
  const addrs = containerAddrs(prev);
  if (addrs.length === 0) throw new CniError(ErrInvalidNetworkConfig, 'prevResult.ips: no container address to forward ports to');
  if (conf.snat && addrs.some((a) => parseCidr(a).family === 4)) {
    // 127.0.0.1:hostPort from the node is DNATed to the container and must leave via a host interface
    // with a loopback source: the kernel allows that only with route_localnet on that interface
    for (const i of prev.interfaces ?? []) {
      if (i.sandbox !== undefined) continue;
      try {
        (require('../net/sysctl') as typeof import('../net/sysctl')).writeSysctl(`net/ipv4/conf/${i.name}/route_localnet`, '1');
      } catch {
        // an interface of the result that is not in this netns (e.g. a peer plugin's): nothing to set
      }
    }
  }
  try {
    firewall().setupPortmap(owner(ctx), conf.mappings, addrs, { snat: conf.snat });
  } catch (e) {
    throw new CniError(ErrInternal, `port mappings: ${(e as Error).message}`);
  }
  return prev;
}

async function del(ctx: Ctx): Promise<void> {
  // removal needs nothing but the owner: no mapping, prevResult or snat is read, so a DEL succeeds with
  // whatever config it is given (the reference's DEL fails on a bad port and skips an empty list)
  firewall().teardownPortmap(owner(ctx));
}

async function check(ctx: Ctx): Promise<void> {
  const conf = parsePortmapConfig(ctx.config);
  const prev = needPrev(ctx);
  if (conf.mappings.length === 0) return;
  const why = firewall().checkPortmap(owner(ctx), conf.mappings, containerAddrs(prev), { snat: conf.snat });
  if (why) throw new CniError(ErrInternal, why);
}

async function gc(ctx: Ctx & { validAttachments: Attachment[] }): Promise<void> {
  firewall().gcOwners('portmap', ctx.config.name, ctx.validAttachments);
}

export const plugin: Plugin<NetConf> = { configShape: PORTMAP_SHAPE, add, del, check, gc };
