// A lab's record on disk (<labDir>/lab.json): enough for another process (`berth lab down`, a test's
// teardown) to find and remove everything the lab made.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BerthError } from '../util/errors';
import { readFileIfExists, writeFileAtomicSync } from '../util/fs';

export type LabNetwork = 'vxlan' | 'bgp' | 'host-gw';
export type LabStore = 'embedded' | 'etcd';

export interface LabNodeState {
  name: string;
  ns: string;
  ip: string;
  /** the node's agent, when running */
  agentPid?: number;
  /** agent --run-dir: subnet.json, status.json */
  runDir: string;
  /** agent --data-dir */
  dataDir: string;
  /** CNI config for containers on this node */
  conflist: string;
  agentLog: string;
}

/** A BGP router the lab runs in a namespace of its own (`berth lab router add`). */
export interface LabRouterState {
  name: string;
  kind: 'bird' | 'frr';
  /** rr: iBGP route reflector of the nodes (they drop their mesh); tor: eBGP top-of-rack peer */
  role: 'rr' | 'tor';
  ns: string;
  ip: string;
  asn: number;
  /** prefixes the router originates (tor: the agents import them) */
  announce: string[];
  /** config, control socket and log */
  dir: string;
  pid?: number;
}

export interface LabState {
  name: string;
  dir: string;
  network: LabNetwork;
  store: LabStore;
  /** cluster network and per-node subnet length */
  cidr: string;
  subnetLen: number;
  ttlS: number;
  intervalS: number;
  underlayMtu: number;
  vni: number;
  port: number;
  world: string;
  nodes: LabNodeState[];
  etcd?: { pid: number; endpoint: string; dataDir: string; log: string };
  /** embedded store directory, shared by every node's agent */
  storeDir: string;
  /** 2: nodes on two underlay subnets (10.250.0.0/24, 10.251.0.0/24); absent: one */
  subnets?: number;
  /** the router namespace joining the two subnets */
  router?: string;
  /** extra `berth agent run` flags for every agent */
  agentArgs?: string[];
  /** BGP routers peering with every node */
  routers?: LabRouterState[];
  createdAt: string;
}

export function stateFile(dir: string): string {
  return path.join(dir, 'lab.json');
}

export function saveState(s: LabState): void {
  fs.mkdirSync(s.dir, { recursive: true });
  writeFileAtomicSync(stateFile(s.dir), JSON.stringify(s, null, 2) + '\n');
}

export function loadState(dir: string): LabState | undefined {
  const text = readFileIfExists(stateFile(dir));
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as LabState;
  } catch (e) {
    throw new BerthError(`${stateFile(dir)}: ${(e as Error).message}`);
  }
}
