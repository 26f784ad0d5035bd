// Names and addresses of a lab: everything it creates carries its name, so `down` finds it all again.
import * as path from 'node:path';
import { BerthError } from '../util/errors';

export const LAB_ROOT = '/run/berth/lab';
/** underlay: node i (1-based) is 10.250.0.i, the world namespace's bridge is .254 */
export const UNDERLAY_PREFIX = '10.250.0';
export const WORLD_IP = `${UNDERLAY_PREFIX}.254`;
export const UNDERLAY_BRIDGE = 'underlay';
/**
 * With two underlay subnets: the second is 10.251.0.0/24 on its own bridge in the world namespace, and a
 * router namespace "bl-<lab>-rt" joins the two (.253 on each), so nodes on different subnets reach each
 * other only through a router, as on racks of a real network.
 */
export const UNDERLAY2_PREFIX = '10.251.0';
export const UNDERLAY2_BRIDGE = 'underlay2';
export const ROUTER_IP = `${UNDERLAY_PREFIX}.253`;
export const ROUTER2_IP = `${UNDERLAY2_PREFIX}.253`;
export const ROUTER_NODE = 'rt';
export const MAX_NODES = 200;

export function checkLabName(name: string): string {
  // namespace names are "bl-<lab>-<node>-<pod>": keep them short and plain
  if (!/^[a-z0-9][a-z0-9]{0,11}$/.test(name)) throw new BerthError(`invalid lab name "${name}" (1-12 lowercase letters and digits)`, { field: '--name' });
  return name;
}

export function labDir(name: string, root = LAB_ROOT): string {
  return path.join(root, name);
}

export function nsPrefix(lab: string): string {
  return `bl-${lab}-`;
}

export function worldNs(lab: string): string {
  return `${nsPrefix(lab)}world`;
}

export function nodeName(i: number): string {
  return `n${i}`;
}

export function nodeNs(lab: string, node: string): string {
  return `${nsPrefix(lab)}${node}`;
}

export function podNs(lab: string, node: string, pod: string): string {
  return `${nsPrefix(lab)}${node}-${pod}`;
}

/** Node i's underlay address; `second`: on the second underlay subnet. */
export function nodeIp(i: number, second = false): string {
  return `${second ? UNDERLAY2_PREFIX : UNDERLAY_PREFIX}.${i}`;
}

/** With two underlay subnets the last floor(N/2) nodes are on the second (3 nodes: n1, n2 | n3). */
export function onSecondSubnet(i: number, nodes: number, subnets: number): boolean {
  return subnets === 2 && i > Math.ceil(nodes / 2);
}

export function nsPath(ns: string): string {
  return `/run/netns/${ns}`;
}
