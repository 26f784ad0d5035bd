// A node's IPv6 block, for a BGP network with an IPv6 range besides the IPv4 one. It is not leased on its
// own: the node holding the i-th IPv4 block of the network gets the i-th IPv6 block of the IPv6 range, so
// the (atomic, already unique) IPv4 lease makes the IPv6 block unique too, with no change to the stores.
// Pure functions, no I/O.
import { BerthError } from '../../util/errors';
import { parseNet, type Ipv4Net } from './subnets';
import { formatIP, parseIP } from '../../util/ip-address';

export interface Ipv6Net { base: bigint; prefix: number }

/** An IPv6 address as a bigint (lib/util/ip-address.ts parses both families); undefined when it is not one. */
function parseIp6(s: string): bigint | undefined {
  const a = parseIP(s);
  return a?.family === 6 ? a.n : undefined;
}

/** RFC 5952 text. */
export function formatIp6(n: bigint): string {
  return formatIP({ family: 6, n });
}

/** Parses "fd00:244::/48"; `field` names the flag in the error. */
export function parseNet6(cidr: string, field: string): Ipv6Net {
  const [ip, len, extra] = cidr.split('/');
  const base = parseIp6(ip ?? '');
  const prefix = Number(len);
  if (base === undefined || extra !== undefined || !/^\d+$/.test(len ?? '') || prefix > 128) {
    throw new BerthError(`invalid IPv6 CIDR "${cidr}" (want e.g. fd00:244::/48)`, { field });
  }
  const host = (1n << BigInt(128 - prefix)) - 1n;
  if ((base & host) !== 0n) throw new BerthError(`"${cidr}" has host bits set (network is ${formatIp6(base & ~host)}/${prefix})`, { field });
  return { base, prefix };
}

/**
 * Checks that the IPv6 range has a block for every IPv4 block (the pairing needs it) and that a block
 * leaves room for containers.
 */
export function checkSubnetLen6(net4: Ipv4Net, subnetLen: number, net6: Ipv6Net, subnetLen6: number, field: string): void {
  if (!Number.isInteger(subnetLen6) || subnetLen6 <= net6.prefix || subnetLen6 > 124) {
    throw new BerthError(`IPv6 block length ${subnetLen6} must be longer than the range's /${net6.prefix} and at most /124`, { field });
  }
  if (subnetLen6 - net6.prefix < subnetLen - net4.prefix) {
    throw new BerthError(`the IPv6 range has 2^${subnetLen6 - net6.prefix} blocks of /${subnetLen6}, fewer than the 2^${subnetLen - net4.prefix} IPv4 blocks of /${subnetLen}`, { field });
  }
}

/** The IPv6 block paired with an IPv4 block of the network (same index). */
export function pairedBlock6(net4: Ipv4Net, subnetLen: number, subnet4: string, net6: Ipv6Net, subnetLen6: number): string {
  const s = parseNet(subnet4, 'subnet');
  const index = BigInt((s.base - net4.base) >>> 0) >> BigInt(32 - subnetLen);
  return `${formatIp6(net6.base + (index << BigInt(128 - subnetLen6)))}/${subnetLen6}`;
}

/** The node's IPv6 block for its IPv4 lease, or undefined when the network has no IPv6 range. */
export function block6Of(network: string, subnetLen: number, subnet4: string, ipv6: { network: string; subnetLen: number } | undefined): string | undefined {
  if (!ipv6) return undefined;
  return pairedBlock6(parseNet(network, '--network'), subnetLen, subnet4, parseNet6(ipv6.network, '--network6'), ipv6.subnetLen);
}
