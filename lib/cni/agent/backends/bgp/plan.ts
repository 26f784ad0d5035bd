// Pure planning for the BGP backend: which neighbours this node should have (the iBGP mesh from the
// store's leases plus configured external peers) and the policies each gets. No I/O, unit-tested.
import type { PeerConfig, Policy, PolicyRule } from '../../../bgp';
import type { BgpAgentConfig } from './config';
import type { Lease } from '../../store/types';

export interface WantedPeer {
  /** node name for mesh peers; undefined for external peers */
  node?: string;
  config: PeerConfig;
}

/**
 * Export to an external peer: this node's own block only (an explicit policy, as RFC 8212 wants for eBGP).
 * Blocks of other nodes stay out, so the router sends each block's traffic straight to its node.
 */
export function externalExport(blocks: string[], addCommunities?: string[]): Policy {
  return { rules: [{ match: { prefixes: blocks.map((prefix) => ({ prefix })) }, ...(addCommunities ? { set: { addCommunities } } : {}), action: 'accept' }], default: 'reject' };
}

/**
 * Import from an external peer: routes with a rejected community never; then routes with an accepted
 * community, and the configured prefixes (and longer); nothing else (RFC 8212 when none is configured).
 */
export function externalImport(prefixes: string[], communities: { accept?: string[]; reject?: string[] } = {}): Policy {
  const rules: PolicyRule[] = [];
  if (communities.reject) rules.push({ match: { communities: communities.reject }, action: 'reject' });
  if (communities.accept) rules.push({ match: { communities: communities.accept }, action: 'accept' });
  for (const p of prefixes) rules.push({ match: { prefixes: [{ prefix: p, ge: Number(p.split('/')[1]), le: p.includes(':') ? 128 : 32 }] }, action: 'accept' });
  return { rules, default: 'reject' };
}

/**
 * `nextHop6`: this node's global IPv6 underlay address, given when the network has an IPv6 range: iBGP
 * sessions (still over IPv4) then carry IPv6 unicast too, with that address as the blocks' next hop.
 */
export function planPeers(own: Lease, all: Lease[], c: BgpAgentConfig, nextHop6?: string, block6?: string): WantedPeer[] {
  const out: WantedPeer[] = [];
  const internal6 = nextHop6 ? { families: ['ipv4', 'ipv6'] as ('ipv4' | 'ipv6')[], nextHop6 } : {};
  const seen = new Set<string>([own.publicIp]);
  for (const p of c.peers) {
    if (seen.has(p.address)) continue;
    seen.add(p.address);
    const external = p.asn !== c.asn;
    const limit = external ? (c.maxPrefixes?.[p.address] ?? c.maxPrefixes?.['*']) : undefined;
    out.push({
      config: {
        address: p.address, asn: p.asn, port: c.port, localAddress: own.publicIp, holdTime: c.holdTime, families: ['ipv4'],
        description: external ? 'external' : c.rrClients?.includes(p.address) ? 'route-reflector client' : 'route reflector',
        ...(limit !== undefined ? { maxPrefixes: limit, ...(c.maxPrefixRestartTime !== undefined ? { maxPrefixRestartTime: c.maxPrefixRestartTime } : {}) } : {}),
        ...(c.rrClients?.includes(p.address) ? { rrClient: true } : {}),
        // eBGP peers get every family the node has, like the mesh (a ToR needs the IPv6 block too)
        ...(external ? { ...internal6, importPolicy: externalImport(c.importPrefixes, { accept: c.importAcceptCommunities, reject: c.importRejectCommunities }), exportPolicy: externalExport([own.subnet, ...(block6 && nextHop6 ? [block6] : [])], c.exportCommunities) } : internal6),
      },
    });
  }
  if (c.mesh) {
    for (const l of all) {
      if (l.node === own.node || l.backend !== 'bgp' || !l.publicIp || seen.has(l.publicIp)) continue;
      seen.add(l.publicIp);
      out.push({ node: l.node, config: { address: l.publicIp, asn: c.asn, port: c.port, localAddress: own.publicIp, holdTime: c.holdTime, families: ['ipv4'], description: `node ${l.node}`, ...(c.routeReflector ? { rrClient: true } : {}), ...internal6 } });
    }
  }
  return out;
}

/** Same session parameters? (a peer whose config changed is removed and added again) */
export function samePeer(a: PeerConfig, b: PeerConfig): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
