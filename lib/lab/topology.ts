// The lab's wiring: a "world" namespace holding the underlay bridge, and per node a namespace whose eth0 is
// a veth port of that bridge. Nothing here touches the caller's namespace: links are created inside the
// world namespace (`ip -n`) with the peer placed straight into the node's.
import * as fs from 'node:fs';
import { ipIn, sh } from './sh';
import { nsPath, ROUTER2_IP, ROUTER_IP, UNDERLAY2_BRIDGE, UNDERLAY2_PREFIX, UNDERLAY_BRIDGE, UNDERLAY_PREFIX, WORLD_IP } from './names';

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

/**
 * Node namespace with eth0 = ip/24 on the underlay; the world side of the veth is named after the node.
 * A node on the second subnet (ip in 10.251.0.0/24) hangs off the second bridge.
 */
export function createNode(world: string, ns: string, node: string, ip: string, mtu: number): void {
  addNamespace(ns);
  plug(world, ns, node, 'eth0', ip.startsWith(`${UNDERLAY2_PREFIX}.`) ? UNDERLAY2_BRIDGE : UNDERLAY_BRIDGE, ip, mtu);
}

/** A veth from bridge `bridge` of the world into `ns` (named `ifname` there), with ip/24 on it. */
function plug(world: string, ns: string, worldSide: string, ifname: string, bridge: string, ip: string, mtu: number): void {
  ipIn(world, 'link', 'add', worldSide, 'mtu', String(mtu), 'type', 'veth', 'peer', 'name', ifname, 'mtu', String(mtu), 'netns', ns);
  ipIn(world, 'link', 'set', worldSide, 'master', bridge, 'up');
  ipIn(ns, 'addr', 'add', `${ip}/24`, 'dev', ifname);
  ipIn(ns, 'link', 'set', ifname, 'up');
}

/**
 * The second underlay subnet: its bridge in the world namespace and a router namespace with a leg on each
 * bridge, forwarding between them; the world (etcd's address) routes the second subnet through it.
 */
export function createSecondSubnet(world: string, routerNs: string, mtu: number): void {
  ipIn(world, 'link', 'add', UNDERLAY2_BRIDGE, 'mtu', String(mtu), 'type', 'bridge');
  ipIn(world, 'link', 'set', UNDERLAY2_BRIDGE, 'up');
  addNamespace(routerNs);
  plug(world, routerNs, 'rt-a', 'eth0', UNDERLAY_BRIDGE, ROUTER_IP, mtu);
  plug(world, routerNs, 'rt-b', 'eth1', UNDERLAY2_BRIDGE, ROUTER2_IP, mtu);
  sh('ip', ['netns', 'exec', routerNs, 'sysctl', '-qw', 'net.ipv4.ip_forward=1']);
  ipIn(world, 'route', 'add', `${UNDERLAY2_PREFIX}.0/24`, 'via', ROUTER_IP);
}

/** A node's route to the other underlay subnet, through the router. */
export function routeToOtherSubnet(ns: string, second: boolean): void {
  if (second) ipIn(ns, 'route', 'add', `${UNDERLAY_PREFIX}.0/24`, 'via', ROUTER2_IP);
  else ipIn(ns, 'route', 'add', `${UNDERLAY2_PREFIX}.0/24`, 'via', ROUTER_IP);
}

/** Every namespace whose name starts with prefix (lab namespaces, including pods). */
export function namespacesWithPrefix(prefix: string): string[] {
  try {
    return fs.readdirSync('/run/netns').filter((n) => n.startsWith(prefix));
  } catch {
    return [];
  }
}
