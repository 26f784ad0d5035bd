// Port mappings (the portmap plugin's rules): DNAT from a node port to a container port, for traffic that
// arrives at the node (prerouting) and traffic the node sends itself (output), and the SNAT that makes two
// odd paths work: hairpin (a container of the same subnet, or the container itself, using the node port)
// and localhost (127.0.0.1:hostPort from the node; needs route_localnet on the host-side interface).
// Hairpin through a bridge also needs the bridge port in hairpin mode (berth-bridge hairpinMode): with
// br_netfilter the DNATed frame leaves by the port it arrived on.
import { cidrString, ipFamily, networkOf, parseCidr } from '../../util/ip-address';
import { nftApply } from './nft';
import { Owner, ownerChain, ownerTag } from './owner';
import { dropOwner, ensureBase, freshChain, rule, snapshot, taggedRules } from './table';

export type Protocol = 'tcp' | 'udp' | 'sctp';
export interface PortMapping { hostPort: number; containerPort: number; protocol: Protocol; hostIP?: string }
export interface PortmapOptions {
  /** hairpin and localhost masquerade (the reference's "snat", default true) */
  snat: boolean;
}

export interface Planned { dnat: string[]; snat: string[] }

/** The rule bodies for the owner chains (exported for unit tests). */
export function plan(mappings: PortMapping[], containerAddrs: string[], o: PortmapOptions): Planned {
  const dnat: string[] = [];
  const snat: string[] = [];
  for (const addr of containerAddrs) {
    const c = parseCidr(addr);
    const ipk = c.family === 4 ? 'ip' : 'ip6';
    const to = c.family === 4 ? `${c.ip}` : `[${c.ip}]`;
    for (const m of mappings) {
      // a mapping bound to a host address of the other family does not apply to this container address
      if (m.hostIP && ipFamily(m.hostIP) !== c.family) continue;
      const daddr = m.hostIP && m.hostIP !== '0.0.0.0' && m.hostIP !== '::' ? `${ipk} daddr ${m.hostIP} ` : '';
      dnat.push(`${daddr}${m.protocol} dport ${m.hostPort} dnat ${ipk} to ${to}:${m.containerPort}`);
      if (!o.snat) continue;
      const match = `${ipk} daddr ${c.ip} ${m.protocol} dport ${m.containerPort} ct status dnat`;
      snat.push(`${ipk} saddr ${cidrString(networkOf(c))} ${match} masquerade`);
      if (c.family === 4) snat.push(`ip saddr 127.0.0.0/8 ${match} masquerade`);
    }
  }
  return { dnat, snat };
}

const chains = (owner: Owner): string[] => [ownerChain('dnat', owner), ownerChain('snat', owner)];

/** Installs (or replaces) this owner's port mappings. */
export function setupPortmap(owner: Owner, mappings: PortMapping[], containerAddrs: string[], o: PortmapOptions): void {
  const tag = ownerTag('portmap', owner);
  const [dnat, snat] = chains(owner);
  const p = plan(mappings, containerAddrs, o);
  let s = ensureBase() + dropOwner(snapshot(), tag, []) + freshChain(dnat) + freshChain(snat);
  // only packets addressed to one of the node's own addresses are candidates, as the reference does
  s += rule('prerouting', `fib daddr type local jump ${dnat}`, tag);
  s += rule('output', `fib daddr type local jump ${dnat}`, tag);
  s += rule('postrouting', `jump ${snat}`, tag);
  for (const r of p.dnat) s += rule(dnat, r);
  for (const r of p.snat) s += rule(snat, r);
  nftApply(s);
}

/** Removes exactly this owner's port mappings; nothing to remove is fine. */
export function teardownPortmap(owner: Owner): void {
  const s = dropOwner(snapshot(), ownerTag('portmap', owner), chains(owner));
  if (s) nftApply(s);
}

/** undefined when the installed rules match what setupPortmap would install; else the difference. */
export function checkPortmap(owner: Owner, mappings: PortMapping[], containerAddrs: string[], o: PortmapOptions): string | undefined {
  const snap = snapshot();
  const tag = ownerTag('portmap', owner);
  const p = plan(mappings, containerAddrs, o);
  for (const base of ['prerouting', 'output', 'postrouting'] as const) {
    if (taggedRules(snap, base, tag) !== 1) return `no ${base} jump rule for ${tag}`;
  }
  const [dnat, snat] = chains(owner);
  const d = snap?.get(dnat)?.length ?? 0;
  const sn = snap?.get(snat)?.length ?? 0;
  if (d !== p.dnat.length) return `DNAT chain has ${d} rule(s), expected ${p.dnat.length}`;
  if (sn !== p.snat.length) return `SNAT chain has ${sn} rule(s), expected ${p.snat.length}`;
  return undefined;
}
