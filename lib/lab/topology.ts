// The lab's wiring: a "world" namespace holding the underlay bridge, and per node a namespace whose eth0 is
// a veth port of that bridge. Nothing here touches the caller's namespace: links are created inside the
// world namespace (`ip -n`) with the peer placed straight into the node's.
import * as fs from 'node:fs';
import { ipIn, sh } from './sh';
import { nsPath, UNDERLAY_BRIDGE, WORLD_IP } from './names';

export function addNamespace(ns: string): void {
  if (fs.existsSync(nsPath(ns))) throw new Error(`network namespace ${ns} already exists (a lab of that name is up? try berth lab down)`);
  sh('ip', ['netns', 'add', ns]);
  ipIn(ns, 'link', 'set', 'lo', 'up');
}

export function deleteNamespace(ns: string): void {
  if (fs.existsSync(nsPath(ns))) sh('ip', ['netns', 'delete', ns]);
}

export function createWorld(world: string, mtu: number): void {
  addNamespace(world);
  ipIn(world, 'link', 'add', UNDERLAY_BRIDGE, 'mtu', String(mtu), 'type', 'bridge');
  ipIn(world, 'addr', 'add', `${WORLD_IP}/24`, 'dev', UNDERLAY_BRIDGE);
  ipIn(world, 'link', 'set', UNDERLAY_BRIDGE, 'up');
}

/** Node namespace with eth0 = ip/24 on the underlay; the world side of the veth is named after the node. */
export function createNode(world: string, ns: string, node: string, ip: string, mtu: number): void {
  addNamespace(ns);
  ipIn(world, 'link', 'add', node, 'mtu', String(mtu), 'type', 'veth', 'peer', 'name', 'eth0', 'mtu', String(mtu), 'netns', ns);
  ipIn(world, 'link', 'set', node, 'master', UNDERLAY_BRIDGE, 'up');
  ipIn(ns, 'addr', 'add', `${ip}/24`, 'dev', 'eth0');
  ipIn(ns, 'link', 'set', 'eth0', 'up');
}

/** Every namespace whose name starts with prefix (lab namespaces, including pods). */
export function namespacesWithPrefix(prefix: string): string[] {
  try {
    return fs.readdirSync('/run/netns').filter((n) => n.startsWith(prefix));
  } catch {
    return [];
  }
}
