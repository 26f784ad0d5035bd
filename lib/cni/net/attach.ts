// Attaching a container: the veth pair that crosses into its netns, and its addresses and routes
// (the reference's ip.SetupVeth + ipam.ConfigureIface, shared by berth-bridge and berth-veth).
import fs = require('node:fs');
import type { IPConfig, Route } from '../types';
import { addAddr } from './addr';
import { ipFamily, parseCidr } from './ip';
import { createVeth, deleteLinkByName, getLink, Link, setLink } from './link';
import { openNetns } from './netns';
import { Rtnl } from './nl/socket';
import { addRoute } from './route';

/**
 * Host-side veth name, derived from the attachment so a retried ADD or a DEL finds it without state
 * ("veth" + 8 hex characters, like the reference's random names).
 */
/** FNV-1a, 32 bits: stable, well spread, and without loading node:crypto (a start-up cost). */
function fnv1a32(text: string): number {
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(text)) h = Math.imul(h ^ byte, 0x01000193) >>> 0;
  return h >>> 0;
}

export function hostVethName(network: string, containerId: string, ifname: string): string {
  return 'veth' + fnv1a32(`${network}\0${containerId}\0${ifname}`).toString(16).padStart(8, '0');
}

export class AttachError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AttachError';
  }
}

export interface VethPair { host: Link; container: Link }

/**
 * Creates hostName here and ifname directly inside the container netns (so the two names never compete),
 * both up. A leftover host end from a failed earlier ADD is removed first.
 */
export async function setupVeth(nl: Rtnl, cnl: Rtnl, netnsPath: string, o: { ifname: string; hostName: string; mtu?: number; mac?: string }): Promise<VethPair> {
  if (await getLink(cnl, o.ifname)) throw new AttachError(`container interface ${o.ifname} already exists in ${netnsPath}`);
  await deleteLinkByName(nl, o.hostName);
  const fd = openNetns(netnsPath);
  let host: Link;
  try {
    host = await createVeth(nl, o.hostName, { peerName: o.ifname, mtu: o.mtu, peerMac: o.mac, peerNetnsFd: fd, up: true });
  } finally {
    fs.closeSync(fd);
  }
  const container = await getLink(cnl, o.ifname);
  if (!container) throw new AttachError(`container interface ${o.ifname} vanished after creation`);
  await setLink(cnl, container.index, { up: true });
  return { host, container: { ...container, up: true } };
}

/** Default gateway per family from the IPAM result, for routes that name none. */
function gateways(ips: IPConfig[]): { 4?: string; 6?: string } {
  const gw: { 4?: string; 6?: string } = {};
  for (const ip of ips) if (ip.gateway && !gw[ipFamily(ip.gateway)]) gw[ipFamily(ip.gateway)] = ip.gateway;
  return gw;
}

/** Addresses then routes on the container interface; a route without gw uses its family's gateway. */
export async function configureIface(cnl: Rtnl, index: number, ips: IPConfig[], routes: Route[], o: { nodad: boolean }): Promise<void> {
  for (const ip of ips) await addAddr(cnl, index, ip.address, { nodad: o.nodad && parseCidr(ip.address).family === 6 });
  const gw = gateways(ips);
  for (const r of routes) {
    const fam = parseCidr(r.dst).family;
    await addRoute(cnl, { dst: r.dst, gw: r.gw ?? gw[fam], dev: index, mtu: r.mtu, advmss: r.advmss, priority: r.priority, table: r.table, scope: r.scope });
  }
}
