// berth-bgp: Calico's routed veth model. The container gets a /32 from this node's block (berth-ipam over
// the block the agent leased and announces by BGP) and a default route via 169.254.1.1, link scope: that
// address exists nowhere; the host end of the veth answers ARP for it (proxy ARP, plus a permanent
// neighbour entry in the container so no ARP depends on the node having a route to 169.254.1.1). The node
// routes the /32 to the host veth; no bridge, no tunnel, no NAT.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CniError, ErrInternal, ErrInvalidEnvironment, ErrInvalidNetworkConfig, ErrPluginNotAvailable, ErrTryAgainLater } from '../errors';
import type { Plugin, PluginContext } from '../skel';
import type { Attachment, IPAMConfig, NetConf, Result } from '../types';
import * as net from '../net';
import { ipamAdd, ipamCheck, ipamDel, ipamGC } from '../ipam/plugin';
import { invalid, optInt, optString } from './common-config';
import type { NodeSettings } from '../agent/settings';

export const ABOUT = 'berth-bgp: CNI plugin for berth\'s BGP-routed network (needs `berth agent --backend bgp` on the node)';
export const DEFAULT_SUBNET_FILE = '/run/berth/agent/subnet.json';
/** Calico's fixed next hop for every container */
export const LINK_GATEWAY = '169.254.1.1';

type Ctx = PluginContext<NetConf>;

function settingsFile(conf: NetConf): string {
  const f = optString(conf as Record<string, unknown>, 'subnetFile') ?? DEFAULT_SUBNET_FILE;
  if (!path.isAbsolute(f)) invalid('subnetFile', `"${f}" must be an absolute path`);
  return f;
}

export function readSettings(file: string): NodeSettings {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new CniError(ErrTryAgainLater, `subnetFile: cannot read ${file} (is berth agent running on this node?): ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  let s: NodeSettings;
  try {
    s = JSON.parse(text) as NodeSettings;
  } catch (e) {
    throw new CniError(ErrInvalidNetworkConfig, `subnetFile: ${file}: ${(e as Error).message}`);
  }
  if (typeof s.subnet !== 'string' || typeof s.mtu !== 'number' || typeof s.ipamDataDir !== 'string') throw new CniError(ErrInvalidNetworkConfig, `subnetFile: ${file}: missing subnet, mtu or ipamDataDir`);
  if (s.backend !== 'bgp') throw new CniError(ErrInvalidNetworkConfig, `subnetFile: ${file}: the agent runs the "${s.backend}" backend, berth-bgp needs "bgp"`);
  return s;
}

/** berth-ipam over the node's block; the gateway is the link-local next hop, not an address of the block. */
export function ipamConf(s: NodeSettings): IPAMConfig {
  return { type: 'berth-ipam', ranges: [[{ subnet: s.subnet }]], dataDir: s.ipamDataDir } as IPAMConfig;
}

function check(conf: NetConf): { mtu?: number; file: string } {
  if (conf.ipam !== undefined) invalid('ipam', 'berth-bgp assigns addresses from the node\'s block; remove the ipam section');
  return { mtu: optInt(conf as Record<string, unknown>, 'mtu', 576, 65535), file: settingsFile(conf) };
}

async function add(ctx: Ctx): Promise<Result> {
  const c = check(ctx.config);
  const s = readSettings(c.file);
  if (!ctx.netns) throw new CniError(ErrInvalidEnvironment, 'CNI_NETNS: required for ADD');
  let cnl: net.Rtnl;
  try {
    cnl = net.openRtnl(ctx.netns);
  } catch (e) {
    if (e instanceof net.NetnsError) throw new CniError(ErrInvalidEnvironment, `CNI_NETNS: ${e.message}`);
    throw e;
  }
  const nl = net.openRtnl();
  const hostName = net.hostVethName(ctx.config.name, ctx.containerId, ctx.ifname);
  const undo: (() => Promise<unknown>)[] = [];
  try {
    const ipam = await ipamAdd(ctx, ipamConf(s));
    undo.push(() => ipamDel(ctx, ipamConf(s)));
    const ip = ipam.ips?.find((x) => net.parseCidr(x.address).family === 4);
    if (!ip) throw new CniError(ErrInternal, `berth-ipam returned no IPv4 address from ${s.subnet}`);
    const addr = net.parseCidr(ip.address).ip;
    const pair = await net.setupVeth(nl, cnl, ctx.netns, { ifname: ctx.ifname, hostName, mtu: c.mtu ?? s.mtu });
    undo.push(() => net.deleteLinkByName(nl, hostName));
    // host end: answers ARP for 169.254.1.1 at once, routes the container's /32 to it
    net.writeSysctl(`net/ipv4/conf/${hostName}/proxy_arp`, '1');
    net.writeSysctl(`net/ipv4/neigh/${hostName}/proxy_delay`, '0');
    await net.replaceRoute(nl, { dst: `${addr}/32`, dev: pair.host.index, scope: net.RT_SCOPE.LINK });
    // container end: the /32, the link-scope gateway and the default route via it
    await net.addAddr(cnl, pair.container.index, `${addr}/32`);
    await net.addRoute(cnl, { dst: `${LINK_GATEWAY}/32`, dev: pair.container.index, scope: net.RT_SCOPE.LINK });
    await net.addRoute(cnl, { dst: '0.0.0.0/0', gw: LINK_GATEWAY, dev: pair.container.index });
    await net.setNeigh(cnl, { index: pair.container.index, ip: LINK_GATEWAY, mac: pair.host.mac });
    net.writeSysctl('net.ipv4.ip_forward', '1');
    const host = (await net.getLinkByIndex(nl, pair.host.index)) ?? pair.host;
    return {
      cniVersion: '1.1.0',
      interfaces: [{ name: host.name, mac: host.mac }, { name: pair.container.name, mac: pair.container.mac, sandbox: ctx.netns }],
      ips: [{ address: `${addr}/32`, gateway: LINK_GATEWAY, interface: 1 }],
      routes: [{ dst: '0.0.0.0/0', gw: LINK_GATEWAY }],
      dns: ctx.config.dns,
    };
  } catch (e) {
    for (const u of undo.reverse()) await u().catch(() => undefined);
    throw e;
  } finally {
    nl.close();
    cnl.close();
  }
}

async function del(ctx: Ctx): Promise<void> {
  const c = check(ctx.config);
  // DEL must succeed without the agent: the address file then stays for GC
  let s: NodeSettings | undefined;
  try { s = readSettings(c.file); } catch { s = undefined; }
  if (s) await ipamDel(ctx, ipamConf(s));
  await net.removeContainerIface(ctx.netns, ctx.ifname);
  const nl = net.openRtnl();
  try {
    // the host end takes its /32 route with it
    await net.deleteLinkByName(nl, net.hostVethName(ctx.config.name, ctx.containerId, ctx.ifname));
  } finally {
    nl.close();
  }
}

async function checkCmd(ctx: Ctx): Promise<void> {
  const c = check(ctx.config);
  const s = readSettings(c.file);
  const prev = ctx.config.prevResult;
  if (!prev) throw new CniError(ErrInvalidNetworkConfig, 'prevResult: required for CHECK');
  await ipamCheck(ctx, ipamConf(s));
  const nl = net.openRtnl();
  try {
    const hostName = net.hostVethName(ctx.config.name, ctx.containerId, ctx.ifname);
    const host = await net.getLink(nl, hostName);
    if (!host) throw new CniError(ErrInternal, `host veth ${hostName} does not exist`);
    const routes = await net.listRoutes(nl, 4);
    for (const ip of net.containerIps(prev, ctx.ifname)) {
      const dst = `${net.parseCidr(ip.address).ip}/32`;
      if (!routes.some((r) => r.dst === dst && r.dev === host.index)) throw new CniError(ErrInternal, `host route to ${dst} via ${hostName} is missing`);
    }
    if (net.readSysctl(`net/ipv4/conf/${hostName}/proxy_arp`) !== '1') throw new CniError(ErrInternal, `proxy ARP is off on ${hostName}`);
  } finally {
    nl.close();
  }
}

async function gc(ctx: Ctx & { validAttachments: Attachment[] }): Promise<void> {
  const s = readSettings(check(ctx.config).file);
  await ipamGC(ctx, ipamConf(s));
}

async function status(ctx: Ctx): Promise<void> {
  try {
    readSettings(check(ctx.config).file);
  } catch (e) {
    throw new CniError(ErrPluginNotAvailable, (e as Error).message);
  }
}

export const plugin: Plugin<NetConf> = { add, del, check: checkCmd, gc, status };
