// Subnet arithmetic for leases: a cluster network (IPv4 CIDR) cut into equal per-node subnets.
// Pure functions, no I/O: the stores call pickSubnet while holding their lock or inside a transaction.
import { BerthError } from '../../util/errors';

export interface Ipv4Net { base: number; prefix: number }

function ipToInt(ip: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip);
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return undefined;
  return ((parts[0] << 24) >>> 0) + (parts[1] << 16) + (parts[2] << 8) + parts[3];
}

export function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** Parses "10.244.0.0/16"; `field` names the flag or key in the error. */
export function parseNet(cidr: string, field: string): Ipv4Net {
  const [ip, len, extra] = cidr.split('/');
  const base = ipToInt(ip ?? '');
  const prefix = Number(len);
  if (base === undefined || extra !== undefined || !/^\d+$/.test(len ?? '') || prefix > 32) {
    throw new BerthError(`invalid IPv4 CIDR "${cidr}" (want e.g. 10.244.0.0/16)`, { field });
  }
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  if (((base & mask) >>> 0) !== base) throw new BerthError(`"${cidr}" has host bits set (network is ${intToIp((base & mask) >>> 0)}/${prefix})`, { field });
  return { base, prefix };
}

export function formatNet(n: Ipv4Net): string {
  return `${intToIp(n.base)}/${n.prefix}`;
}

/** Checks that a subnet length fits the network: at least 2 subnets, each with room for a gateway and hosts. */
export function checkSubnetLen(net: Ipv4Net, subnetLen: number, field: string): void {
  if (!Number.isInteger(subnetLen) || subnetLen <= net.prefix || subnetLen > 28) {
    throw new BerthError(`subnet length ${subnetLen} must be longer than the network's /${net.prefix} and at most /28`, { field });
  }
}

export function subnetCount(net: Ipv4Net, subnetLen: number): number {
  return 2 ** (subnetLen - net.prefix);
}

/** The i-th subnet of the network. */
export function nthSubnet(net: Ipv4Net, subnetLen: number, i: number): string {
  return formatNet({ base: (net.base + i * 2 ** (32 - subnetLen)) >>> 0, prefix: subnetLen });
}

/** True when `subnet` is exactly one of the network's subnets of that length. */
export function isSubnetOf(net: Ipv4Net, subnetLen: number, subnet: string): boolean {
  let s: Ipv4Net;
  try {
    s = parseNet(subnet, 'subnet');
  } catch {
    return false;
  }
  if (s.prefix !== subnetLen) return false;
  const mask = net.prefix === 0 ? 0 : (0xffffffff << (32 - net.prefix)) >>> 0;
  return ((s.base & mask) >>> 0) === net.base;
}

/**
 * A free subnet: `preferred` when it is a valid, free subnet of the network, else the lowest free one.
 * The first subnet (the network's own address) is skipped, as flannel does, so no node address ends in .0.0.
 */
export function pickSubnet(net: Ipv4Net, subnetLen: number, taken: Set<string>, preferred?: string): string | undefined {
  if (preferred && isSubnetOf(net, subnetLen, preferred) && !taken.has(preferred) && preferred !== nthSubnet(net, subnetLen, 0)) return preferred;
  const n = subnetCount(net, subnetLen);
  for (let i = 1; i < n; i++) {
    const s = nthSubnet(net, subnetLen, i);
    if (!taken.has(s)) return s;
  }
  return undefined;
}

/** The subnet's network address (flannel puts it on the VXLAN device, and routes go via it) and first host. */
export function subnetAddrs(subnet: string): { network: string; gateway: string; prefix: number } {
  const s = parseNet(subnet, 'subnet');
  return { network: intToIp(s.base), gateway: intToIp(s.base + 1), prefix: s.prefix };
}
