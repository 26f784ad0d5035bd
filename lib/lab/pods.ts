// "Pods": plain network namespaces attached to a node's network with its plugin (berth-vxlan or berth-bgp), run as a CNI
// runtime runs it (inside the node's namespace, CNI_* environment, config on stdin).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BerthError } from '../util/errors';
import type { LabNodeState } from './state';
import { addNamespace, deleteNamespace } from './topology';
import { nsPath } from './names';
import { runIn } from './sh';

export const BIN_DIR = path.resolve(__dirname, '..', '..', '..', 'bin');

export interface Pod { node: string; name: string; ns: string; ip: string; cidr: string; gateway?: string; mtu?: number }

export function cniEnv(command: string, containerId: string, netns: string, ifname = 'eth0'): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH, CNI_COMMAND: command, CNI_CONTAINERID: containerId, CNI_NETNS: netns,
    CNI_IFNAME: ifname, CNI_PATH: `${BIN_DIR}:/usr/lib/cni`, CNI_ARGS: '',
    // a plugin call inside a lab node must not start a warm server: it would run in the node's namespaces
    // yet hold the host's default root (/run/berth), sending the host's own calls cold until it idles out
    BERTH_NO_AUTOSTART: '1',
  };
}

/** The one plugin config of a node's conflist (the plugin reads the node's subnet.json). */
export function pluginConf(node: LabNodeState): Record<string, unknown> {
  const list = JSON.parse(fs.readFileSync(node.conflist, 'utf8')) as { cniVersion: string; name: string; plugins: Record<string, unknown>[] };
  return { cniVersion: list.cniVersion, name: list.name, ...list.plugins[0] };
}

/** The node's plugin binary (berth-vxlan or berth-bgp, as the conflist names it). */
function pluginBin(conf: Record<string, unknown>): string {
  return path.join(BIN_DIR, String(conf.type));
}

export function attachNetns(node: LabNodeState, containerId: string, netns: string): { ip: string; cidr: string; gateway?: string } {
  const conf = pluginConf(node);
  const r = runIn(node.ns, pluginBin(conf), [], { input: JSON.stringify(conf), env: cniEnv('ADD', containerId, netns) });
  if (r.status !== 0) throw new BerthError(`${String(conf.type)} ADD on ${node.name} failed: ${(r.stdout || r.stderr).trim()}`);
  const res = JSON.parse(r.stdout) as { ips?: { address: string; gateway?: string }[] };
  const ip = res.ips?.[0];
  if (!ip) throw new BerthError(`${String(conf.type)} ADD on ${node.name} returned no address: ${r.stdout.trim()}`);
  return { ip: ip.address.split('/')[0], cidr: ip.address, gateway: ip.gateway };
}

export function detachNetns(node: LabNodeState, containerId: string, netns: string): void {
  const conf = pluginConf(node);
  const r = runIn(node.ns, pluginBin(conf), [], { input: JSON.stringify(conf), env: cniEnv('DEL', containerId, netns) });
  if (r.status !== 0) throw new BerthError(`${String(conf.type)} DEL on ${node.name} failed: ${(r.stdout || r.stderr).trim()}`);
}

/** A new namespace `ns` attached to the node's network. */
export function createPod(node: LabNodeState, name: string, ns: string): Pod {
  addNamespace(ns);
  try {
    const a = attachNetns(node, name, nsPath(ns));
    return { node: node.name, name, ns, ...a };
  } catch (e) {
    deleteNamespace(ns);
    throw e;
  }
}

export function removePod(node: LabNodeState, pod: Pod): void {
  try {
    detachNetns(node, pod.name, nsPath(pod.ns));
  } finally {
    deleteNamespace(pod.ns);
  }
}
