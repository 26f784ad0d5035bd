// Steps every veth-based plugin (berth-bridge, berth-veth) takes the same way: lazy access to the
// netlink layer and the firewall, the attachment's rule owner, the container namespace, and the
// parts of DEL, CHECK and GC that do not depend on how the host end is wired.
import { CniError, ErrInternal, ErrInvalidEnvironment, ErrInvalidNetworkConfig } from '../errors';
import { delegateCheck, delegateDel, delegateGC } from '../invoke';
import type { PluginContext } from '../skel';
import type { Attachment, NetConf, Result } from '../types';
import type * as Net from '../net';
import { withRollback, type Undo } from '../../util/rollback';

type Ctx = PluginContext<NetConf>;

// netlink and its helpers are most of a plugin's start-up: load them on the first verb that touches the
// kernel, not for VERSION or STATUS.
export const net = (): typeof Net => require('../net') as typeof Net;
export const firewall = (): typeof import('../firewall') => require('../firewall') as typeof import('../firewall');

/** Who owns an attachment's firewall rules: one network, one container, one interface. */
export function owner(ctx: Ctx): { network: string; containerId: string; ifname: string } {
  return { network: ctx.config.name, containerId: ctx.containerId, ifname: ctx.ifname };
}

export function openContainer(netns: string): Net.Rtnl {
  try {
    return net().openRtnl(netns);
  } catch (e) {
    if (e instanceof net().NetnsError) throw new CniError(ErrInvalidEnvironment, `CNI_NETNS: ${e.message}`);
    throw e;
  }
}

/** CHECK: the attachment's host veth (the one carrying its mark), or the error that it has none. */
export async function hostVeth(nl: Net.Rtnl, ctx: Ctx): Promise<Net.Link> {
  const host = await net().findHostVeth(nl, owner(ctx));
  if (!host) throw new CniError(ErrInternal, `host veth of ${ctx.containerId}/${ctx.ifname} does not exist (none of ${net().hostVethNames(owner(ctx)).join(', ')} carries its mark)`);
  return host;
}

export type { Undo };

/**
 * Runs an ADD with its host (nl) and container (cnl) sockets. On failure every step recorded in `undo` is
 * undone, newest first, and the original error reported, so a failed ADD leaves nothing behind; the
 * sockets are closed either way.
 */
export async function addWithRollback<T>(nl: Net.Rtnl, cnl: Net.Rtnl, add: (undo: Undo) => Promise<T>): Promise<T> {
  try {
    return await withRollback(add);
  } finally {
    nl.close();
    cnl.close();
  }
}

/**
 * DEL: release the address (when the config still names an IPAM), remove both ends of the veth, drop the
 * attachment's masquerade rules. Only a host link that carries this attachment's mark is removed: its
 * name alone may be another attachment's (see hostVethNames), and a DEL of an attachment that was never
 * added must touch nothing.
 */
export async function delVeth(ctx: Ctx, ipamType: string | undefined, ipMasq: boolean): Promise<void> {
  const nl = net().openRtnl();
  let host: Net.Link | undefined;
  try {
    host = await net().findHostVeth(nl, owner(ctx));
  } finally {
    nl.close();
  }
  // Deleting the host end takes the container end along, with no switch into the container's netns. It
  // is out of both namespaces almost at once, while this thread releases the address; the kernel's RCU wait
  // before freeing it (much longer) is not ours to sit out (see deleteHostLinkByName). By name: the mark was
  // read a moment ago, and only this attachment's own DEL or a failed ADD of it removes a marked link.
  const removal = host ? net().deleteHostLinkByName(host.name) : Promise.resolve(false);
  removal.catch(() => undefined); // awaited below, after the release, which may throw first
  if (ipamType) await delegateDel(ipamType, ctx);
  const deleted = await removal;
  // no marked host end: an ADD killed before it marked the link leaves the container end, which the
  // caller's netns holds under the caller's ifname (the reference removes exactly that, too)
  if (!deleted) await net().removeContainerIface(ctx.netns, ctx.ifname);
  if (ipMasq) firewall().teardownMasquerade(owner(ctx));
}

/** CHECK, container side: IPAM agrees, and the interface has prevResult's addresses and routes. */
export async function checkContainerSide(ctx: Ctx, ipamType: string): Promise<Result> {
  const prev = ctx.config.prevResult;
  if (!prev) throw new CniError(ErrInvalidNetworkConfig, 'prevResult: required for CHECK');
  await delegateCheck(ipamType, ctx);
  await net().checkContainer(ctx.netns, ctx.ifname, prev).catch((e: unknown) => {
    if (e instanceof net().NetnsError) throw new CniError(ErrInvalidEnvironment, `CNI_NETNS: ${e.message}`);
    throw e;
  });
  return prev;
}

/** CHECK, masquerade: the attachment's rules are there for its addresses. */
export function checkMasquerade(ctx: Ctx, prev: Result): void {
  const why = firewall().checkMasquerade(owner(ctx), net().containerIps(prev, ctx.ifname).map((i) => i.address));
  if (why) throw new CniError(ErrInternal, why);
}

/** GC: IPAM collects its own leftovers; drop masquerade rules of attachments no longer valid. */
export async function gcVeth(ctx: Ctx & { validAttachments: Attachment[] }, ipamType: string, ipMasq: boolean): Promise<void> {
  await delegateGC(ipamType, ctx);
  if (ipMasq) firewall().gcOwners('masq', ctx.config.name, ctx.validAttachments);
}
