// Names and addresses of a lab: everything it creates carries its name, so `down` finds it all again.
import * as path from 'node:path';
import { BerthError } from '../util/errors';

export const LAB_ROOT = '/run/berth/lab';
/** underlay: node i (1-based) is 10.250.0.i, the world namespace's bridge is .254 */
export const UNDERLAY_PREFIX = '10.250.0';
export const WORLD_IP = `${UNDERLAY_PREFIX}.254`;
export const UNDERLAY_BRIDGE = 'underlay';
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

export function nodeIp(i: number): string {
  return `${UNDERLAY_PREFIX}.${i}`;
}

export function nsPath(ns: string): string {
  return `/run/netns/${ns}`;
}
