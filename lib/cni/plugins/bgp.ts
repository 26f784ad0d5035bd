// berth-bgp: Calico's routed veth model. The container gets a /32 from this node's block (berth-ipam over
// the block the agent leased and announces by BGP) and a default route via 169.254.1.1, link scope: that
// address exists nowhere; the host end of the veth answers ARP for it (proxy ARP, plus a permanent
// neighbour entry in the container so no ARP depends on the node having a route to 169.254.1.1). The node
// routes the /32 to the host veth; no bridge, no tunnel, no NAT.
// IPv6, when the agent has an IPv6 block for the node (subnet6): a /128 as well, and as Calico does, the
// host end gets the MAC ee:ee:ee:ee:ee:ee, hence the link-local address fe80::ecee:eeff:feee:eeee, which
// is the container's IPv6 default gateway; no DAD on either end (a point-to-point link); a /128 host route.
import { CniError, ErrInternal, ErrInvalidEnvironment, ErrInvalidNetworkConfig, ErrPluginNotAvailable } from '../errors';
import type { Plugin, PluginContext } from '../skel';
import type { Attachment, IPAMConfig, NetConf, Result } from '../types';
import * as net from '../net';
import { ipamAdd, ipamCheck, ipamDel, ipamGC } from '../ipam/plugin';
import { invalid, optInt } from './common-config';
import { readSettings, settingsFile } from './node-settings';
import { addWithRollback, hostVeth, openContainer, owner } from './veth-steps';
import type { NodeSettings } from '../agent/settings';

export const ABOUT = 'berth-bgp: CNI plugin for berth\'s BGP-routed network (needs `berth agent --backend bgp` on the node)';
/** Calico's fixed next hop for every container */
export const LINK_GATEWAY = '169.254.1.1';
/** Calico's host-side veth MAC, and the EUI-64 link-local address the kernel derives from it */
export const HOST_VETH_MAC = 'ee:ee:ee:ee:ee:ee';
export const LINK_GATEWAY6 = 'fe80::ecee:eeff:feee:eeee';

type Ctx = PluginContext<NetConf>;

/** berth-ipam over the node's block; the gateway is the link-local next hop, not an address of the block. */
export function ipamConf(s: NodeSettings): IPAMConfig {
  const ranges = s.subnet6 ? [[{ subnet: s.subnet }], [{ subnet: s.subnet6 }]] : [[{ subnet: s.subnet }]];
  return { type: 'berth-ipam', ranges, dataDir: s.ipamDataDir } as IPAMConfig;
}

/**
 * IPv6 host end (Calico's dataplane_linux.go), first, as it takes the link down: the MAC becomes
 * HOST_VETH_MAC while down, so the link-local address the kernel gives it when up is LINK_GATEWAY6; no DAD,
 * no router advertisements, proxy NDP and forwarding on.
 */
async function prepareHostEnd6(nl: net.Rtnl, pair: net.VethPair): Promise<void> {
  const host = pair.host.name;
  await net.setLink(nl, pair.host.index, { up: false });
  net.writeSysctl(`net/ipv6/conf/${host}/disable_ipv6`, '0');
  net.writeSysctl(`net/ipv6/conf/${host}/accept_dad`, '0');
  net.writeSysctl(`net/ipv6/conf/${host}/accept_ra`, '0');
  net.writeSysctl(`net/ipv6/conf/${host}/proxy_ndp`, '1');
  net.writeSysctl(`net/ipv6/conf/${host}/forwarding`, '1');
  await net.setLink(nl, pair.host.index, { mac: HOST_VETH_MAC });
  await net.setLink(nl, pair.host.index, { up: true });
  pair.host.mac = HOST_VETH_MAC;
}

/** The container's /128 (no DAD: a point-to-point link), its default route via LINK_GATEWAY6, the host's /128 route. */
async function addIpv6(nl: net.Rtnl, cnl: net.Rtnl, ctx: Ctx, pair: net.VethPair, addr6: string): Promise<void> {
  net.writeSysctl('net.ipv6.conf.all.forwarding', '1');
  net.writeSysctl('net/ipv6/conf/all/disable_ipv6', '0', ctx.netns);
  net.writeSysctl(`net/ipv6/conf/${ctx.ifname}/disable_ipv6`, '0', ctx.netns);
  net.writeSysctl(`net/ipv6/conf/${ctx.ifname}/accept_dad`, '0', ctx.netns);
  await net.replaceRoute(nl, { dst: `${addr6}/128`, dev: pair.host.index });
  await net.addAddr(cnl, pair.container.index, `${addr6}/128`, { nodad: true });
  await net.addRoute(cnl, { dst: '::/0', gw: LINK_GATEWAY6, dev: pair.container.index });
}

function check(conf: NetConf): { mtu?: number; file: string } {
  if (conf.ipam !== undefined) invalid('ipam', 'berth-bgp assigns addresses from the node\'s block; remove the ipam section');
  return { mtu: optInt(conf as Record<string, unknown>, 'mtu', 576, 65535), file: settingsFile(conf) };
}

async function add(ctx: Ctx): Promise<Result> {
  const c = check(ctx.config);
  const s = readSettings(c.file, 'berth-bgp');
  if (!ctx.netns) throw new CniError(ErrInvalidEnvironment, 'CNI_NETNS: required for ADD');
  const cnl = openContainer(ctx.netns);
  const nl = net.openRtnl();
  return addWithRollback(nl, cnl, async (undo) => {
    const ipam = await ipamAdd(ctx, ipamConf(s));
    undo.push(() => ipamDel(ctx, ipamConf(s)));
    const ip = ipam.ips?.find((x) => net.parseCidr(x.address).family === 4);
    if (!ip) throw new CniError(ErrInternal, `berth-ipam returned no IPv4 address from ${s.subnet}`);
    const addr = net.parseCidr(ip.address).ip;
    const ip6 = s.subnet6 ? ipam.ips?.find((x) => net.parseCidr(x.address).family === 6) : undefined;
    if (s.subnet6 && !ip6) throw new CniError(ErrInternal, `berth-ipam returned no IPv6 address from ${s.subnet6}`);
    const addr6 = ip6 ? net.parseCidr(ip6.address).ip : undefined;
    const pair = await net.setupVeth(nl, cnl, ctx.netns, { attachment: owner(ctx), mtu: c.mtu ?? s.mtu });
    undo.push(() => net.deleteLink(nl, pair.host.index));
    const hostName = pair.host.name;
    if (addr6) await prepareHostEnd6(nl, pair);
    // host end: answers ARP for 169.254.1.1 at once, routes the container's /32 to it
    net.writeSysctl(`net/ipv4/conf/${hostName}/proxy_arp`, '1');
    net.writeSysctl(`net/ipv4/neigh/${hostName}/proxy_delay`, '0');
    await net.replaceRoute(nl, { dst: `${addr}/32`, dev: pair.host.index, scope: net.RT_SCOPE.LINK });
    // container end: the /32, the link-scope gateway and the default route via it
    await net.addAddr(cnl, pair.container.index, `${addr}/32`);
    await net.addRoute(cnl, { dst: `${LINK_GATEWAY}/32`, dev: pair.container.index, scope: net.RT_SCOPE.LINK });
    await net.addRoute(cnl, { dst: '0.0.0.0/0', gw: LINK_GATEWAY, dev: pair.container.index });
    if (addr6) await addIpv6(nl, cnl, ctx, pair, addr6);
    await net.setNeigh(cnl, { index: pair.container.index, ip: LINK_GATEWAY, mac: pair.host.mac });
    net.writeSysctl('net.ipv4.ip_forward', '1');
    const host = (await net.getLinkByIndex(nl, pair.host.index)) ?? pair.host;
    const ips = [{ address: `${addr}/32`, gateway: LINK_GATEWAY, interface: 1 }];
    const routes = [{ dst: '0.0.0.0/0', gw: LINK_GATEWAY }];
    if (addr6) {
      ips.push({ address: `${addr6}/128`, gateway: LINK_GATEWAY6, interface: 1 });
      routes.push({ dst: '::/0', gw: LINK_GATEWAY6 });
    }
    return {
      cniVersion: '1.1.0',
      interfaces: [{ name: host.name, mac: host.mac }, { name: pair.container.name, mac: pair.container.mac, sandbox: ctx.netns }],
      ips,
      routes,
      dns: ctx.config.dns,
    };
  });
}

async function del(ctx: Ctx): Promise<void> {
  // DEL must succeed without the agent (the address file then stays for GC) and with a config ADD refuses
  let s: NodeSettings | undefined;
  try { s = readSettings(settingsFile(ctx.config), 'berth-bgp'); } catch { s = undefined; }
  if (s) await ipamDel(ctx, ipamConf(s));
  const nl = net.openRtnl();
  try {
    // only the host end marked as this attachment's (a name may be another's); it takes its /32 route along
    const host = await net.findHostVeth(nl, owner(ctx));
    if (host) await net.deleteLink(nl, host.index).catch((e: { code?: string }) => { if (e.code !== 'ENODEV') throw e; });
    else await net.removeContainerIface(ctx.netns, ctx.ifname);
  } finally {
    nl.close();
  }
}

async function checkCmd(ctx: Ctx): Promise<void> {
  const c = check(ctx.config);
  const s = readSettings(c.file, 'berth-bgp');
  const prev = ctx.config.prevResult;
  if (!prev) throw new CniError(ErrInvalidNetworkConfig, 'prevResult: required for CHECK');
  await ipamCheck(ctx, ipamConf(s));
  const nl = net.openRtnl();
  try {
    const host = await hostVeth(nl, ctx);
    const hostName = host.name;
    const routes = [...(await net.listRoutes(nl, 4)), ...(s.subnet6 ? await net.listRoutes(nl, 6) : [])];
    for (const ip of net.containerIps(prev, ctx.ifname)) {
      const c = net.parseCidr(ip.address);
      const dst = `${c.ip}/${c.family === 4 ? 32 : 128}`;
      if (!routes.some((r) => r.dst === dst && r.dev === host.index)) throw new CniError(ErrInternal, `host route to ${dst} via ${hostName} is missing`);
    }
    if (net.readSysctl(`net/ipv4/conf/${hostName}/proxy_arp`) !== '1') throw new CniError(ErrInternal, `proxy ARP is off on ${hostName}`);
  } finally {
    nl.close();
  }
}

async function gc(ctx: Ctx & { validAttachments: Attachment[] }): Promise<void> {
  const s = readSettings(check(ctx.config).file, 'berth-bgp');
  await ipamGC(ctx, ipamConf(s));
}

async function status(ctx: Ctx): Promise<void> {
  try {
    readSettings(check(ctx.config).file, 'berth-bgp');
  } catch (e) {
    throw new CniError(ErrPluginNotAvailable, (e as Error).message);
  }
}

export const plugin: Plugin<NetConf> = { configShape: { mtu: true, subnetFile: true }, add, del, check: checkCmd, gc, status };
