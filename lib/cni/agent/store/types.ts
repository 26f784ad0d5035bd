// The agent's cluster state: one lease per node, mapping a subnet to the node that holds it and how to
// reach it. Two drivers implement SubnetStore (./file.ts, ./etcd.ts); ./open.ts picks one.
import { BerthError } from '../../../util/errors';

/** What a node publishes about itself (flannel's lease attributes). */
export interface NodeInfo {
  node: string;
  /** underlay address other nodes send encapsulated traffic to */
  publicIp: string;
  /** MAC of the node's VXLAN device (empty for backends without one) */
  vtepMac: string;
  backend: 'vxlan' | 'bgp' | 'host-gw';
}

export interface Lease extends NodeInfo {
  subnet: string;
  /** ms since the epoch, as this process estimates it */
  expiresAt: number;
}

export interface LeasePolicy {
  /** cluster network, IPv4 CIDR */
  network: string;
  subnetLen: number;
  ttlMs: number;
}

export interface SubnetStore {
  readonly kind: StoreKind;
  /**
   * The node's lease: its live one if any (attributes refreshed), else `preferred` when free, else the
   * lowest free subnet. Atomic against every other agent using the same store.
   */
  acquire(info: NodeInfo, policy: LeasePolicy, preferred?: string): Promise<Lease>;
  /** Extends the lease and rewrites its attributes; throws LeaseLostError when it is no longer ours. */
  renew(lease: Lease, ttlMs: number): Promise<Lease>;
  /** Gives the subnet back (clean shutdown). Missing is fine. */
  release(lease: Lease): Promise<void>;
  /** Live leases of every node. */
  list(): Promise<Lease[]>;
  close(): Promise<void>;
}

export type StoreKind = 'embedded' | 'etcd';

export class LeaseLostError extends BerthError {
  constructor(subnet: string, why: string) {
    super(`lease on ${subnet} lost: ${why}`);
    this.name = 'LeaseLostError';
  }
}

export class NoFreeSubnetError extends BerthError {
  constructor(network: string, subnetLen: number) {
    super(`no free /${subnetLen} left in ${network}`, { field: 'network' });
    this.name = 'NoFreeSubnetError';
  }
}
