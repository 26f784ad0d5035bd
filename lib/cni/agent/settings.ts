// The node's network settings as the agent writes them for the berth-vxlan plugin (flannel's
// /run/flannel/subnet.env), and the agent's status for `berth agent status`.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readFileIfExists, writeFileAtomicSync } from '../../util/fs';

/** where the agent writes these files unless --run-dir says otherwise */
export const DEFAULT_RUN_DIR = '/run/berth/agent';
export const SUBNET_FILE = 'subnet.json';
export const STATUS_FILE = 'status.json';

export interface NodeSettings {
  node: string;
  backend: string;
  /** the cluster network, routed through the overlay */
  network: string;
  /** this node's lease */
  subnet: string;
  /** this node's IPv6 block, when the network has an IPv6 range (BGP backend only) */
  subnet6?: string;
  /** first host of the subnet: the local bridge's address */
  gateway: string;
  /** MTU for container interfaces */
  mtu: number;
  /** where IPAM keeps this node's allocations */
  ipamDataDir: string;
}

export interface AgentStatus {
  node: string;
  pid: number;
  backend: string;
  store: string;
  network: string;
  subnet?: string;
  mtu?: number;
  publicIp?: string;
  vtepMac?: string;
  leaseExpiresAt?: number;
  peers: string[];
  startedAt: string;
  updatedAt: string;
  lastChanges: number;
  totalChanges: number;
  lastError?: string;
  intervalMs: number;
}

export function writeJson(dir: string, file: string, value: unknown): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
  writeFileAtomicSync(path.join(dir, file), JSON.stringify(value, null, 2) + '\n');
}

export function readJson<T>(file: string): T | undefined {
  const text = readFileIfExists(file);
  return text === undefined ? undefined : (JSON.parse(text) as T);
}
