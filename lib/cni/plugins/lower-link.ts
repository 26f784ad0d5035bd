// What berth-macvlan and berth-ipvlan share (the reference plugins' semantics): a sub-interface of a
// "master" link of the caller's namespace, born inside the container's namespace under CNI_IFNAME,
// addresses and routes from the delegated IPAM. DEL releases the IPAM and deletes the sub-interface (the
// namespace's end takes it too); CHECK compares the container side with prevResult; GC and STATUS are IPAM's.
import fs = require('node:fs');
import { CniError, ErrInternal, ErrInvalidEnvironment } from '../errors';
import { delegateAdd, delegateCheck, delegateDel, delegateGC, delegateStatus } from '../invoke';
import type { Plugin, PluginContext } from '../skel';
import type { Attachment, NetConf, Result, Route } from '../types';
import { invalid, lenientString, optIfname, optInt, optString, record } from './common-config';
import { net, openContainer } from './veth-steps';
import { withRollback } from '../../util/rollback';
import type { GoShape } from '../goconf';
import type * as Net from '../net';

type Ctx = PluginContext<NetConf>;

export interface LowerKind<M extends string> {
  kind: 'macvlan' | 'ipvlan';
  modes: readonly M[];
  defaultMode: M;
  /** modes whose traffic is routed, not switched: routes go out of the device, not via a gateway */
  routed: readonly M[];
}

interface LowerConfig<M> { master: string; mode: M; mtu?: number; ipamType?: string }

function parse<M extends string>(k: LowerKind<M>, conf: NetConf): LowerConfig<M> {
  const c = conf as Record<string, unknown>;
  const master = optIfname(c, 'master');
  if (!master) invalid('master', `missing: the ${k.kind} plugin needs the name of the parent interface`);
  const mode = (optString(c, 'mode') ?? k.defaultMode) as M;
  if (!k.modes.includes(mode)) invalid('mode', `unknown ${k.kind} mode "${mode}": use ${k.modes.join(', ')}`);
  const ipam = conf.ipam;
  if (ipam !== undefined && (typeof ipam !== 'object' || typeof ipam.type !== 'string' || !ipam.type)) invalid('ipam.type', 'missing IPAM plugin type');
  return { master, mode, mtu: optInt(c, 'mtu', 68, 65535), ipamType: ipam?.type };
}

async function masterIndex(master: string): Promise<number> {
  const nl = net().openRtnl();
  try {
    const link = await net().getLink(nl, master);
    if (!link) throw new CniError(ErrInvalidEnvironment, `master: interface "${master}" does not exist in the plugin's network namespace`);
    return link.index;
  } finally {
    nl.close();
  }
}

export function lowerLinkPlugin<M extends string>(k: LowerKind<M>): Plugin<NetConf> {
  const create = (nl: Net.Rtnl, mode: M, o: Net.LowerLinkOptions, name: string): Promise<void> =>
    k.kind === 'macvlan' ? net().createMacvlan(nl, name, mode as keyof typeof Net.MACVLAN_MODES, o) : net().createIpvlan(nl, name, mode as keyof typeof Net.IPVLAN_MODES, o);

  async function add(ctx: Ctx): Promise<Result> {
    const conf = parse(k, ctx.config);
    if (!ctx.netns) throw new CniError(ErrInvalidEnvironment, 'CNI_NETNS: required for ADD');
    const master = await masterIndex(conf.master);
    const cnl = openContainer(ctx.netns);
    try {
      return await withRollback(async (undo) => {
        const nsFd = net().openNetns(ctx.netns);
        const nl = net().openRtnl();
        try {
          await create(nl, conf.mode, { master, netnsFd: nsFd, mtu: conf.mtu }, ctx.ifname);
        } catch (e) {
          if ((e as { code?: string }).code === 'EOPNOTSUPP') throw new CniError(ErrInternal, `this kernel has no ${k.kind} driver (EOPNOTSUPP)`);
          throw e;
        } finally {
          nl.close();
          fs.closeSync(nsFd);
        }
        const link = await net().mustGetLink(cnl, ctx.ifname);
        undo.push(() => net().deleteLink(cnl, link.index));
        const ipam = conf.ipamType ? await delegateAdd(conf.ipamType, ctx) : { cniVersion: '1.1.0', ips: [] } as Result;
        if (conf.ipamType) undo.push(() => delegateDel(conf.ipamType!, ctx));
        await net().setLink(cnl, link.index, { up: true });
        const ips = (ipam.ips ?? []).map((ip) => ({ ...ip, interface: 0 }));
        for (const ip of ips) await net().addAddr(cnl, link.index, ip.address, { nodad: net().parseCidr(ip.address).family === 6 });
        const routed = k.routed.includes(conf.mode);
        const routes: Route[] = [];
        for (const r of ipam.routes ?? []) {
          const fam = net().parseCidr(r.dst).family;
          const gw = routed ? undefined : r.gw ?? ips.find((ip) => net().parseCidr(ip.address).family === fam)?.gateway;
          if (!routed && !gw) continue;
          await net().addRoute(cnl, { dst: r.dst, gw, dev: link.index, mtu: r.mtu, advmss: r.advmss, priority: r.priority, table: r.table });
          routes.push(gw ? { ...r, gw } : { ...r });
        }
        const made = (await net().getLinkByIndex(cnl, link.index)) ?? link;
        return { cniVersion: '1.1.0', interfaces: [{ name: ctx.ifname, mac: made.mac, sandbox: ctx.netns }], ips, routes, dns: ipam.dns ?? ctx.config.dns };
      });
    } finally {
      cnl.close();
    }
  }

  /** Lenient: whatever names the IPAM; the sub-interface is deleted if it is of our kind. */
  async function del(ctx: Ctx): Promise<void> {
    const ipamType = lenientString(record((ctx.config as Record<string, unknown>).ipam), 'type');
    if (ipamType) await delegateDel(ipamType, ctx);
    if (!ctx.netns || !net().netnsExists(ctx.netns)) return;
    const cnl = net().openRtnl(ctx.netns);
    try {
      const l = await net().getLink(cnl, ctx.ifname);
      if (l?.kind === k.kind) await net().deleteLink(cnl, l.index).catch((e: { code?: string }) => { if (e.code !== 'ENODEV') throw e; });
    } finally {
      cnl.close();
    }
  }

  async function check(ctx: Ctx): Promise<void> {
    const conf = parse(k, ctx.config);
    const prev = ctx.config.prevResult;
    if (!prev) throw new CniError(ErrInternal, 'prevResult: required for CHECK');
    if (!ctx.netns) throw new CniError(ErrInvalidEnvironment, 'CNI_NETNS: required for CHECK');
    await masterIndex(conf.master);
    if (conf.ipamType) await delegateCheck(conf.ipamType, ctx);
    const cnl = openContainer(ctx.netns);
    try {
      const l = await net().getLink(cnl, ctx.ifname);
      if (l?.kind !== k.kind) throw new CniError(ErrInternal, `${ctx.ifname} in ${ctx.netns} is ${l ? `a ${l.kind ?? 'plain'} link` : 'missing'}, not ${k.kind}`);
    } finally {
      cnl.close();
    }
    try {
      await net().checkContainer(ctx.netns, ctx.ifname, prev);
    } catch (e) {
      throw new CniError(ErrInternal, (e as Error).message);
    }
  }

  async function gc(ctx: Ctx & { validAttachments: Attachment[] }): Promise<void> {
    const conf = parse(k, ctx.config);
    if (conf.ipamType) await delegateGC(conf.ipamType, ctx);
  }

  /** Ready when the master exists and the IPAM is. */
  async function status(ctx: Ctx): Promise<void> {
    const conf = parse(k, ctx.config);
    await masterIndex(conf.master);
    if (conf.ipamType) await delegateStatus(conf.ipamType, ctx);
  }

  const shape: GoShape = { master: true, mode: true, mtu: true };
  return { configShape: shape, add, del, check, gc, status };
}
