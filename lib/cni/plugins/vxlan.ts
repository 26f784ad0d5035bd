// berth-vxlan: attaches a container to this node's share of the VXLAN overlay (flannel's CNI plugin model).
// The agent leased the node a subnet and wrote it, with the overlay MTU, to subnet.json; this plugin turns
// that into a berth-bridge config (local bridge as the subnet's gateway, berth-ipam over the subnet, the
// overlay MTU on the veth) and delegates to berth-bridge in-process.
import { CniError, ErrPluginNotAvailable } from '../errors';
import type { GoShape } from '../goconf';
import type { Plugin, PluginContext } from '../skel';
import type { Attachment, NetConf, Result } from '../types';
import { plugin as bridge } from './bridge';
import { invalid, optBool, optIfname } from './common-config';
import { readSettings, settingsFile } from './node-settings';
import type { NodeSettings } from '../agent/settings';

export const ABOUT = 'berth-vxlan: CNI plugin for berth\'s VXLAN overlay (needs `berth agent` on the node)';

type Ctx = PluginContext<NetConf>;

/** The berth-bridge config this network means on this node. */
export function bridgeConfig(conf: NetConf, s: NodeSettings): NetConf {
  const c = conf as Record<string, unknown>;
  const isDefaultGateway = optBool(c, 'isDefaultGateway') ?? true;
  if (conf.ipam !== undefined) invalid('ipam', 'berth-vxlan assigns addresses from the node\'s lease; remove the ipam section');
  return {
    cniVersion: conf.cniVersion,
    name: conf.name,
    type: 'berth-bridge',
    bridge: optIfname(c, 'bridge') ?? 'berth0',
    isGateway: true,
    isDefaultGateway,
    ipMasq: optBool(c, 'ipMasq') ?? false,
    hairpinMode: optBool(c, 'hairpinMode') ?? false,
    mtu: s.mtu,
    ...(conf.runtimeConfig ? { runtimeConfig: conf.runtimeConfig } : {}),
    ...(conf.prevResult ? { prevResult: conf.prevResult } : {}),
    ...(conf.dns ? { dns: conf.dns } : {}),
    ipam: {
      type: 'berth-ipam',
      ranges: [[{ subnet: s.subnet, gateway: s.gateway }]],
      // the rest of the cluster is reached through the node (and from there over the VXLAN device)
      routes: isDefaultGateway ? [] : [{ dst: s.network }],
      dataDir: s.ipamDataDir,
    },
  };
}

function delegate(ctx: Ctx): Ctx {
  const config = bridgeConfig(ctx.config, readSettings(settingsFile(ctx.config), 'berth-vxlan'));
  return { ...ctx, config, stdin: Buffer.from(JSON.stringify(config)) };
}

async function add(ctx: Ctx): Promise<Result> {
  return bridge.add(delegate(ctx));
}

async function del(ctx: Ctx): Promise<void> {
  let d: Ctx;
  try {
    d = delegate(ctx);
  } catch {
    // DEL must succeed without the agent: remove the container's interface; its address file stays for GC
    const net = await import('../net');
    await net.removeContainerIface(ctx.netns, ctx.ifname);
    return;
  }
  await bridge.del(d);
}

async function check(ctx: Ctx): Promise<void> {
  await bridge.check(delegate(ctx));
}

async function gc(ctx: Ctx & { validAttachments: Attachment[] }): Promise<void> {
  const d = delegate(ctx);
  await bridge.gc!({ ...d, validAttachments: ctx.validAttachments });
}

/** STATUS: ready once the agent has leased this node a subnet, and the bridge (its IPAM) is ready too. */
async function status(ctx: Ctx): Promise<void> {
  const file = settingsFile(ctx.config);
  let settings: NodeSettings;
  try {
    settings = readSettings(file, 'berth-vxlan');
  } catch (e) {
    // no lease yet, or an unreadable one: this node cannot take ADDs until the agent writes it
    throw new CniError(ErrPluginNotAvailable, (e as Error).message);
  }
  const config = bridgeConfig(ctx.config, settings);
  await bridge.status!({ ...ctx, config, stdin: Buffer.from(JSON.stringify(config)) });
}

/** flannel-style keys plus what berth-bridge is handed (runtimeConfig.mac); berth-ipam reads its own. */
const VXLAN_SHAPE: GoShape = { bridge: true, isDefaultGateway: true, ipMasq: true, hairpinMode: true, subnetFile: true, runtimeConfig: { mac: true } };

export const plugin: Plugin<NetConf> = { configShape: VXLAN_SHAPE, add, del, check, gc, status };
