// berth-bridge: the reference bridge plugin's semantics (CNI 1.1). Containers get a veth whose host end
// is a port of a Linux bridge in the node's netns; IPAM is delegated; the bridge can be the subnet's
// gateway, and traffic leaving the subnet can be masqueraded.
import { CniError, ErrInternal, ErrInvalidEnvironment, ErrUnsupportedField } from '../errors';
import { delegateAdd, delegateDel, delegateStatus } from '../invoke';
import type { Plugin, PluginContext } from '../skel';
import type { Attachment, IPConfig, NetConf, Result, Route } from '../types';
import { addWithRollback, checkContainerSide, checkMasquerade, delVeth, firewall, gcVeth, hostVeth, net, openContainer, owner } from './veth-steps';
import { lenientFlag, lenientString, record } from './common-config';
import { BRIDGE_SHAPE, parseBridgeConfig, BridgeConfig } from './bridge-config';

export const ABOUT = 'berth-bridge: CNI bridge plugin (reference bridge semantics)';

type Ctx = PluginContext<NetConf>;

/** A netlink socket inside the container's netns; a bad CNI_NETNS is the caller's error (code 4). */


// the firewall layer spawns nft: load it only when a config asks for firewall rules

async function add(ctx: Ctx): Promise<Result> {
  const conf = parseBridgeConfig(ctx.config);
  if (!ctx.netns) throw new CniError(ErrInvalidEnvironment, 'CNI_NETNS: required for ADD');
  const cnl = openContainer(ctx.netns);
  const nl = net().openRtnl();
  return addWithRollback(nl, cnl, async (undo) => {
    const br = await net().ensureBridge(nl, { name: conf.bridge, mtu: conf.mtu, vlanFiltering: conf.vlan !== undefined ? true : undefined, promisc: conf.promiscMode })
      .catch((e: unknown) => {
        // kernels built without CONFIG_BRIDGE_VLAN_FILTERING refuse the attribute
        if (conf.vlan !== undefined && (e as { code?: string }).code === 'EOPNOTSUPP') {
          throw new CniError(ErrUnsupportedField, 'vlan: this kernel has no bridge VLAN filtering (CONFIG_BRIDGE_VLAN_FILTERING)');
        }
        throw e;
      });
    const pair = await net().setupVeth(nl, cnl, ctx.netns, { attachment: owner(ctx), mtu: conf.mtu ?? (br.mtu || undefined), mac: conf.mac, master: br.index });
    undo.push(() => net().deleteLink(nl, pair.host.index));
    if (conf.hairpinMode) await net().setBridgePort(nl, pair.host.index, { hairpin: true });
    if (conf.vlan !== undefined) {
      await net().addBridgeVlan(nl, pair.host.index, conf.vlan, true);
      // the port should carry only its VLAN: drop the default VLAN 1 the kernel gave it
      await net().delBridgeVlan(nl, pair.host.index, 1).catch(() => undefined);
    }

    const ipam = await delegateAdd(conf.ipamType, ctx);
    undo.push(() => delegateDel(conf.ipamType, ctx));
    if (!ipam.ips || ipam.ips.length === 0) throw new CniError(ErrInternal, `IPAM plugin ${conf.ipamType} returned no IP addresses`);

    const ips: IPConfig[] = ipam.ips.map((ip) => ({ ...ip, gateway: ip.gateway ?? (conf.isGateway ? net().firstHost(ip.address) : undefined), interface: 2 }));
    const routes: Route[] = [...(ipam.routes ?? [])];
    if (conf.isDefaultGateway) {
      for (const ip of ips) {
        const dst = net().parseCidr(ip.address).family === 4 ? '0.0.0.0/0' : '::/0';
        if (!routes.some((r) => r.dst === dst)) routes.push({ dst, gw: ip.gateway });
      }
    }
    await net().configureIface(cnl, pair.container.index, ips, routes, { nodad: !conf.enableDad });

    if (conf.isGateway) {
      const gws = ips.filter((ip) => ip.gateway).map((ip) => `${ip.gateway}/${net().parseCidr(ip.address).prefix}`);
      await net().setGatewayAddrs(nl, br.index, gws, conf.forceAddress);
      net().enableForwarding(ips);
    }
    if (conf.ipMasq) {
      firewall().setupMasquerade(owner(ctx), ips.map((ip) => ip.address));
      undo.push(async () => firewall().teardownMasquerade(owner(ctx)));
    }
    if (conf.macspoofchk) {
      firewall().setupMacspoof(owner(ctx), pair.host.name, pair.container.mac);
      undo.push(async () => firewall().teardownMacspoof(owner(ctx)));
    }

    // the bridge is read again for its MAC (one without a MAC of its own takes its ports' lowest); the host
    // end's MAC, read when it was created, does not change when it joins the bridge
    const brNow = (await net().getLinkByIndex(nl, br.index)) ?? br;
    return {
      cniVersion: '1.1.0',
      interfaces: [
        { name: brNow.name, mac: brNow.mac },
        { name: pair.host.name, mac: pair.host.mac },
        { name: pair.container.name, mac: pair.container.mac, sandbox: ctx.netns },
      ],
      ips,
      routes,
      dns: ipam.dns ?? ctx.config.dns,
    };
  });
}

/** DEL reads only what names what it removes, leniently: a config that ADD would refuse is still removed. */
async function del(ctx: Ctx): Promise<void> {
  const c = ctx.config as Record<string, unknown>;
  await delVeth(ctx, lenientString(record(c.ipam), 'type'), lenientFlag(c, 'ipMasq'));
  if (lenientFlag(c, 'macspoofchk')) firewall().teardownMacspoof(owner(ctx));
}

async function check(ctx: Ctx): Promise<void> {
  const conf = parseBridgeConfig(ctx.config);
  const prev = await checkContainerSide(ctx, conf.ipamType);
  const nl = net().openRtnl();
  try {
    const br = await net().getLink(nl, conf.bridge);
    if (!br || br.kind !== 'bridge') throw new CniError(ErrInternal, `bridge ${conf.bridge} does not exist`);
    const host = await hostVeth(nl, ctx);
    if (host.master !== br.index) throw new CniError(ErrInternal, `host veth ${host.name} is not a port of bridge ${conf.bridge}`);
  } finally {
    nl.close();
  }
  if (conf.ipMasq) checkMasquerade(ctx, prev);
}

/** GC: IPAM collects its own leftovers; we drop masquerade rules of attachments no longer valid. */
async function gc(ctx: Ctx & { validAttachments: Attachment[] }): Promise<void> {
  const conf = parseBridgeConfig(ctx.config);
  await gcVeth(ctx, conf.ipamType, conf.ipMasq);
}

/** STATUS: the bridge itself needs nothing that could be missing; the IPAM may (the reference's answer). */
async function status(ctx: Ctx): Promise<void> {
  const conf = parseBridgeConfig(ctx.config);
  await delegateStatus(conf.ipamType, ctx);
}

export const plugin: Plugin<NetConf> = { configShape: BRIDGE_SHAPE, add, del, check, gc, status };
export type { BridgeConfig };
