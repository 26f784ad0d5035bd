// The container side of an attachment as DEL and CHECK see it.
import type { IPConfig, Result } from '../types';
import { listAddrs } from './addr';
import { deleteLink, getLink } from './link';
import { netnsExists, openRtnl } from './netns';
import { listRoutes } from './route';
import { parseCidr } from '../../util/ip-address';
import { writeSysctl } from './sysctl';

/** The result's addresses that belong to the container interface `ifname`. */
export function containerIps(r: Result, ifname: string): IPConfig[] {
  const ifaces = r.interfaces ?? [];
  return (r.ips ?? []).filter((ip) => ip.interface === undefined || (ifaces[ip.interface]?.name === ifname && ifaces[ip.interface]?.sandbox !== undefined));
}

/**
 * Deletes ifname in the netns if it is a veth (its peer goes with it): what an ADD of ours put there under
 * the caller's interface name. A missing netns or interface is success; anything else there is left alone.
 */
export async function removeContainerIface(netns: string, ifname: string): Promise<void> {
  if (!netns || !netnsExists(netns)) return;
  const cnl = openRtnl(netns);
  try {
    const l = await getLink(cnl, ifname);
    if (l?.kind === 'veth') await deleteLink(cnl, l.index).catch((e: { code?: string }) => { if (e.code !== 'ENODEV') throw e; });
  } finally {
    cnl.close();
  }
}

/** Throws, naming what differs, unless ifname exists in netns with prevResult's MAC, addresses and routes. */
export async function checkContainer(netns: string, ifname: string, prev: Result): Promise<void> {
  const cnl = openRtnl(netns);
  try {
    const link = await getLink(cnl, ifname);
    if (!link) throw new Error(`interface ${ifname} does not exist in ${netns}`);
    const entry = (prev.interfaces ?? []).find((i) => i.name === ifname && i.sandbox !== undefined);
    if (entry?.mac && entry.mac.toLowerCase() !== link.mac) throw new Error(`interface ${ifname} has MAC ${link.mac}, expected ${entry.mac}`);
    const have = await listAddrs(cnl, { index: link.index });
    for (const ip of containerIps(prev, ifname)) {
      const want = parseCidr(ip.address);
      if (!have.some((a) => a.ip === want.ip && a.prefix === want.prefix)) throw new Error(`interface ${ifname} lacks address ${ip.address}`);
    }
    for (const r of prev.routes ?? []) {
      const fam = parseCidr(r.dst).family;
      const routes = await listRoutes(cnl, fam, r.table ?? 254);
      const dst = `${parseCidr(r.dst).ip}/${parseCidr(r.dst).prefix}`;
      if (!routes.some((x) => x.dst === dst && (r.gw === undefined || x.gw === r.gw))) throw new Error(`route to ${r.dst}${r.gw ? ` via ${r.gw}` : ''} is missing in ${netns}`);
    }
  } finally {
    cnl.close();
  }
}

/** Turns on forwarding in the caller's netns for the families of these addresses. */
export function enableForwarding(ips: IPConfig[]): void {
  const fams = new Set(ips.map((ip) => parseCidr(ip.address).family));
  if (fams.has(4)) writeSysctl('net.ipv4.ip_forward', '1');
  if (fams.has(6)) writeSysctl('net.ipv6.conf.all.forwarding', '1');
}
