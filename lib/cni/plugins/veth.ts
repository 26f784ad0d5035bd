// berth-veth: point-to-point attachment (the reference ptp plugin's semantics). No bridge: the container
// gets a /32 (/128) on its end of a veth, the host end carries the gateway address, and the node routes
// each container address to its veth. The container reaches the gateway "onlink", so no subnet route or
// ARP for a whole subnet is involved: IPv4 uses the IPAM gateway, IPv6 the fixed link-local fe80::1.
import { CniError, ErrInternal, ErrInvalidEnvironment } from '../errors';
import { delegateAdd, delegateDel, delegateStatus } from '../invoke';
import type { Plugin, PluginContext } from '../skel';
import type { Attachment, IPConfig, NetConf, Result, Route } from '../types';
import { addWithRollback, checkContainerSide, checkMasquerade, delVeth, firewall, gcVeth, hostVeth, net, openContainer, owner } from './veth-steps';
import { lenientFlag, lenientString, record } from './common-config';
import { parseVethConfig, VETH_SHAPE } from './veth-config';

export const ABOUT = 'berth-veth: CNI point-to-point veth plugin (reference ptp semantics)';

type Ctx = PluginContext<NetConf>;

const V6_GATEWAY = 'fe80::1';




/** The IPAM address as it is configured here: host prefix, and the gateway the container routes via. */
function pointToPoint(ip: IPConfig): IPConfig {
  const c = net().parseCidr(ip.address);
  const gateway = c.family === 4 ? ip.gateway ?? net().firstHost(ip.address) : V6_GATEWAY;
  return { address: `${c.ip}/${c.family === 4 ? 32 : 128}`, gateway, interface: 1 };
}

async function add(ctx: Ctx): Promise<Result> {
  const conf = parseVethConfig(ctx.config);
  if (!ctx.netns) throw new CniError(ErrInvalidEnvironment, 'CNI_NETNS: required for ADD');
  const cnl = openContainer(ctx.netns);
  const nl = net().openRtnl();
  return addWithRollback(nl, cnl, async (undo) => {
    const pair = await net().setupVeth(nl, cnl, ctx.netns, { attachment: owner(ctx), mtu: conf.mtu, mac: conf.mac });
    undo.push(() => net().deleteLink(nl, pair.host.index));
    const ipam = await delegateAdd(conf.ipamType, ctx);
    undo.push(() => delegateDel(conf.ipamType, ctx));
    if (!ipam.ips || ipam.ips.length === 0) throw new CniError(ErrInternal, `IPAM plugin ${conf.ipamType} returned no IP addresses`);
    const ips = ipam.ips.map(pointToPoint);

    // host side: the gateway addresses (no prefix route: they stand for nothing but themselves here),
    // then one route per container address
    for (const ip of ips) {
      const fam = net().parseCidr(ip.address).family;
      const gwCidr = fam === 4 ? `${ip.gateway}/32` : `${V6_GATEWAY}/64`;
      if (!(await net().listAddrs(nl, { index: pair.host.index })).some((a) => a.cidr === gwCidr)) {
        await net().addAddr(nl, pair.host.index, gwCidr, { nodad: fam === 6, noPrefixRoute: fam === 4 });
      }
      await net().addRoute(nl, { dst: ip.address, dev: pair.host.index, scope: net().RT_SCOPE.LINK, src: fam === 4 ? ip.gateway : undefined });
    }

    // container side: the address, then every route via the gateway, onlink
    const routes: Route[] = [...(ipam.routes ?? [])];
    for (const ip of ips) {
      const dflt = net().parseCidr(ip.address).family === 4 ? '0.0.0.0/0' : '::/0';
      if (!routes.some((r) => r.dst === dflt)) routes.push({ dst: dflt });
    }
    for (const ip of ips) await net().addAddr(cnl, pair.container.index, ip.address, { nodad: net().parseCidr(ip.address).family === 6 });
    const out: Route[] = [];
    for (const r of routes) {
      const fam = net().parseCidr(r.dst).family;
      const gw = r.gw ?? ips.find((ip) => net().parseCidr(ip.address).family === fam)?.gateway;
      if (!gw) continue; // a route of a family we have no address in
      await net().addRoute(cnl, { dst: r.dst, gw, dev: pair.container.index, onlink: true, mtu: r.mtu, advmss: r.advmss, priority: r.priority, table: r.table });
      out.push({ ...r, gw });
    }

    net().enableForwarding(ips);
    if (conf.ipMasq) {
      // masquerade everything leaving the node that did not come from this node's containers' subnet:
      // the IPAM prefix says what the "inside" is, as in the bridge plugin
      firewall().setupMasquerade(owner(ctx), ipam.ips.map((ip) => ip.address));
      undo.push(async () => firewall().teardownMasquerade(owner(ctx)));
    }
    const host = (await net().getLinkByIndex(nl, pair.host.index)) ?? pair.host;
    return {
      cniVersion: '1.1.0',
      interfaces: [{ name: host.name, mac: host.mac }, { name: pair.container.name, mac: pair.container.mac, sandbox: ctx.netns }],
      ips,
      routes: out,
      dns: ipam.dns ?? ctx.config.dns,
    };
  });
}

/** DEL reads only what names what it removes, leniently: a config that ADD would refuse is still removed. */
async function del(ctx: Ctx): Promise<void> {
  const c = ctx.config as Record<string, unknown>;
  // the host end takes its routes and gateway address with it
  await delVeth(ctx, lenientString(record(c.ipam), 'type'), lenientFlag(c, 'ipMasq'));
}

async function check(ctx: Ctx): Promise<void> {
  const conf = parseVethConfig(ctx.config);
  const prev = await checkContainerSide(ctx, conf.ipamType);
  const nl = net().openRtnl();
  try {
    const host = await hostVeth(nl, ctx);
    for (const ip of net().containerIps(prev, ctx.ifname)) {
      const c = net().parseCidr(ip.address);
      const routes = await net().listRoutes(nl, c.family);
      if (!routes.some((r) => r.dst === `${c.ip}/${c.prefix}` && r.dev === host.index)) throw new CniError(ErrInternal, `host route to ${ip.address} via ${host.name} is missing`);
    }
  } finally {
    nl.close();
  }
  if (conf.ipMasq) checkMasquerade(ctx, prev);
}

async function gc(ctx: Ctx & { validAttachments: Attachment[] }): Promise<void> {
  const conf = parseVethConfig(ctx.config);
  await gcVeth(ctx, conf.ipamType, conf.ipMasq);
}

/** STATUS: as berth-bridge, ready when its IPAM is. */
async function status(ctx: Ctx): Promise<void> {
  await delegateStatus(parseVethConfig(ctx.config).ipamType, ctx);
}

export const plugin: Plugin<NetConf> = { configShape: VETH_SHAPE, add, del, check, gc, status };
