// Attaching a container: the veth pair that crosses into its netns, and its addresses and routes
// (the reference's ip.SetupVeth + ipam.ConfigureIface, shared by berth-bridge and berth-veth).
import fs = require('node:fs');
import type { IPConfig, Route } from '../types';
import { addAddr } from './addr';
import { ipFamily, parseCidr } from '../../util/ip-address';
import { createVeth, deleteLink, getLink, Link, setLink } from './link';
import { openNetns } from './netns';
import { NetlinkError, Rtnl } from './nl/socket';
import { addRoute } from './route';

/** The attachment a host veth belongs to: what a DEL or CHECK has to find it by. */
export interface AttachmentId { network: string; containerId: string; ifname: string }

/** FNV-1a, 32 bits: stable, well spread, and without loading node:crypto (a start-up cost). */
function fnv1a32(text: string): number {
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(text)) h = Math.imul(h ^ byte, 0x01000193) >>> 0;
  return h >>> 0;
}

/**
 * How many host names an attachment may take. 32 bits of hash do collide (adv-col-593415 and
 * adv-col-1221810 in one network), and anyone who picks container ids can make them collide on purpose:
 * an attachment whose first name is taken by another one takes its next, so a collision costs nothing
 * unless all of them are taken, which is then a clean error.
 */
export const HOST_VETH_CANDIDATES = 4;

/**
 * Host-side veth names of an attachment, in the order ADD tries them, derived from the attachment so a
 * DEL or CHECK finds it without state ("veth" + 8 hex characters, like the reference's random names).
 */
export function hostVethNames(a: AttachmentId): string[] {
  const key = `${a.network}\0${a.containerId}\0${a.ifname}`;
  return Array.from({ length: HOST_VETH_CANDIDATES }, (_, k) => 'veth' + fnv1a32(k === 0 ? key : `${key}\0${k}`).toString(16).padStart(8, '0'));
}

/**
 * The mark ADD writes on the host veth (its alias) and the only proof that a link is this attachment's:
 * a name can be another attachment's, and nothing is ever deleted on the strength of a name. Network names
 * and container ids cannot hold "/", so the text is unambiguous; one too long for an alias (255 bytes)
 * is replaced by its SHA-256.
 */
export function attachmentMark(a: AttachmentId): string {
  const text = `berth:${a.network}/${a.containerId}/${a.ifname}`;
  if (Buffer.byteLength(text) <= 255) return text;
  return 'berth:sha256:' + (require('node:crypto') as typeof import('node:crypto')).createHash('sha256').update(text).digest('hex');
}

/** The attachment's host veth: the candidate name that carries its mark, if any. */
export async function findHostVeth(nl: Rtnl, a: AttachmentId): Promise<Link | undefined> {
  const mark = attachmentMark(a);
  for (const name of hostVethNames(a)) {
    const l = await getLink(nl, name);
    if (l && l.kind === 'veth' && l.alias === mark) return l;
  }
  return undefined;
}

export class AttachError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AttachError';
  }
}

export interface VethPair { host: Link; container: Link }

const isExists = (e: unknown): boolean => e instanceof NetlinkError && e.code === 'EEXIST';

/**
 * Creates the host end (the first free name of the attachment's, marked as the attachment's, a port of
 * `master` when given) here and ifname directly inside the container netns (so the two names never
 * compete), both up. A host end this attachment left behind (a failed earlier ADD) is replaced; a link of
 * any other owner is never touched. Each name is tried by creating it (the usual case: both names free);
 * only on EEXIST is it looked at which of the two is taken.
 */
export async function setupVeth(nl: Rtnl, cnl: Rtnl, netnsPath: string, o: { attachment: AttachmentId; mtu?: number; mac?: string; master?: number }): Promise<VethPair> {
  const ifname = o.attachment.ifname;
  const mark = attachmentMark(o.attachment);
  const names = hostVethNames(o.attachment);
  const fd = openNetns(netnsPath);
  let host: Link | undefined;
  let containerNameFree = false;
  /** the new pair, or undefined when the host name is taken */
  const create = (name: string): Promise<Link | undefined> =>
    createVeth(nl, name, { peerName: ifname, mtu: o.mtu, peerMac: o.mac, peerNetnsFd: fd, up: true }).catch(async (e: unknown) => {
      if (!isExists(e)) throw e;
      // before any host name is looked at (or a leftover of ours deleted): an ifname the container already has is the caller's error
      if (!containerNameFree && await getLink(cnl, ifname)) throw new AttachError(`container interface ${ifname} already exists in ${netnsPath}`);
      containerNameFree = true;
      return undefined;
    });
  try {
    for (const name of names) {
      if ((host = await create(name))) break;
      const existing = await getLink(nl, name);
      if (existing && existing.alias !== mark) continue; // another attachment's (or not ours at all)
      if (existing) await deleteLink(nl, existing.index).catch((e: { code?: string }) => { if (e.code !== 'ENODEV') throw e; });
      // undefined again: a concurrent ADD took the name first, so the next one
      if ((host = await create(name))) break;
    }
  } finally {
    fs.closeSync(fd);
  }
  if (!host) throw new AttachError(`host veth names ${names.join(', ')} are all taken by other attachments (hash collision): not touching them`);
  try {
    // the kernel ignores IFLA_IFALIAS when it creates a link; joining the bridge rides along
    await setLink(nl, host.index, { alias: mark, master: o.master });
  } catch (e) {
    await deleteLink(nl, host.index).catch(() => undefined);
    throw e;
  }
  const container = await getLink(cnl, ifname);
  if (!container) throw new AttachError(`container interface ${ifname} vanished after creation`);
  // not at creation: the kernel configures the peer before pairing it, and opening an unpaired veth fails (ENOTCONN)
  await setLink(cnl, container.index, { up: true });
  return { host: { ...host, alias: mark, master: o.master ?? host.master }, container: { ...container, up: true } };
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
