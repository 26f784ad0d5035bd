// What the agent daemon needs from a forwarding backend. VXLAN (./vxlan/) is the first; a BGP backend
// (lib/cni/bgp) plugs in beside it: it publishes the same NodeInfo and reconciles from the same leases.
import type { ControlHandler } from '../control/server';
import type { Lease, NodeInfo } from '../store/types';

export interface Published {
  publicIp: string;
  vtepMac: string;
  /** MTU for containers on this node */
  mtu: number;
}

export interface ReconcileReport {
  /** what was changed in the kernel, one human-readable line each; empty when all was right */
  changes: string[];
  /** what this node must publish now (a recreated VXLAN device has a new MAC) */
  published: Published;
  /** remote nodes forwarded to */
  peers: string[];
  /** nodes the backend refuses to forward to, one line each naming the node and why (host-gw off-subnet) */
  problems?: string[];
}

export interface Backend {
  readonly name: NodeInfo['backend'];
  /** Sets up local devices; returns what this node publishes in its lease. */
  prepare(localSubnet?: string): Promise<Published>;
  /** Converges the kernel on the store's state: `own` is this node's lease, `all` every live lease. */
  reconcile(own: Lease, all: Lease[]): Promise<ReconcileReport>;
  /**
   * `restart`: a hitless stop (the kernel state stays and peers are told nothing that ends it). Otherwise
   * the node leaves: the tunnel devices and direct routes of the encapsulation modes are removed.
   */
  close(restart?: boolean): void | Promise<void>;
  /** commands the backend answers on the agent's control socket */
  controlHandlers?(): Record<string, ControlHandler>;
}
