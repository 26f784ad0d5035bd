// `berth lab router add|rm`: a BIRD or FRR router of a running BGP lab, recorded in the lab's state. Adding
// or removing one restarts the agents (SIGTERM: hitless, leases and routes kept) with the flags that point
// them at the lab's routers (./router-conf.ts), then waits until every agent is Established with each router.
import * as fs from 'node:fs';
import { BerthError } from '../util/errors';
import { askAgent } from '../cni/agent/control/client';
import type { PeerStatus } from '../cni/bgp/status';
import type { Lab } from './lab';
import { nsPath, nsPrefix, UNDERLAY_PREFIX } from './names';
import { nsInode, pidsInNamespaces, stopPids } from './procs';
import { birdConf, frrConf, nodesAsn } from './router-conf';
import { saveState, type LabRouterState } from './state';
import { deleteNamespace } from './topology';

export type RouterKind = LabRouterState['kind'];
export type RouterRole = LabRouterState['role'];

export interface RouterOptions {
  kind: RouterKind;
  role: RouterRole;
  /** default: the role and a number, rr1, tor1, ... */
  name?: string;
  /** tor only (default 65000); a reflector is in the nodes' AS */
  asn?: number;
  /** prefixes the router originates */
  announce?: string[];
}

export const DEFAULT_TOR_ASN = 65000;
/** routers take underlay addresses from .249 down, above every node (at most 200) */
const FIRST_ROUTER_HOST = 249;
const LAST_ROUTER_HOST = 201;
const ESTABLISHED_TIMEOUT_MS = 30_000;

/** Checks options that need no lab: each error names its flag. */
export function checkRouterOptions(o: RouterOptions): void {
  if (o.kind !== 'bird' && o.kind !== 'frr') throw new BerthError(`unknown router kind "${String(o.kind)}" (want bird or frr)`, { field: '--kind' });
  if (o.role !== 'rr' && o.role !== 'tor') throw new BerthError(`unknown router role "${String(o.role)}" (want rr or tor)`, { field: '--role' });
  if (o.name !== undefined) checkRouterName(o.name);
  if (o.asn !== undefined) {
    if (o.role === 'rr') throw new BerthError('a route reflector is in the nodes\' AS: only a tor takes --asn', { field: '--asn' });
    if (!Number.isInteger(o.asn) || o.asn < 1 || o.asn > 0xffffffff) throw new BerthError(`invalid AS number "${o.asn}" (want 1 to 4294967295)`, { field: '--asn' });
  }
  for (const p of o.announce ?? []) {
    const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)$/.exec(p);
    if (!m || m.slice(1, 5).some((x) => Number(x) > 255) || Number(m[5]) > 32) throw new BerthError(`invalid IPv4 prefix "${p}"`, { field: '--announce' });
  }
}

function checkRouterName(name: string): void {
  // the namespace is bl-<lab>-<name>: a node's (n<i>), the world's or the subnet router's name would collide
  if (!/^[a-z][a-z0-9]{0,7}$/.test(name) || /^n\d+$/.test(name) || name === 'world' || name === 'rt') {
    throw new BerthError(`invalid router name "${name}" (1-8 lowercase letters and digits, not n<number>, world or rt)`, { field: '--router-name' });
  }
}

export async function addRouter(lab: Lab, o: RouterOptions): Promise<LabRouterState> {
  checkRouterOptions(o);
  const s = lab.state;
  if (s.network !== 'bgp') throw new BerthError(`lab ${s.name} runs ${s.network}: BGP routers need a lab made with --network bgp`, { field: '--name' });
  if (s.router) throw new BerthError(`lab ${s.name} has two underlay subnets: routers serve one-subnet labs only`, { field: '--name' });
  const routers = s.routers ?? [];
  const name = o.name ?? nextName(o.role, routers.map((r) => r.name));
  if (routers.some((r) => r.name === name)) throw new BerthError(`lab ${s.name} has a router "${name}" already`, { field: '--router-name' });
  const r: LabRouterState = {
    name, kind: o.kind, role: o.role, ns: `${nsPrefix(s.name)}${name}`, ip: freeAddress(lab), asn: o.role === 'rr' ? nodesAsn(s) : o.asn ?? DEFAULT_TOR_ASN,
    announce: o.announce ?? [], dir: `${s.dir}/routers/${name}`,
  };
  s.routers = [...routers, r];
  saveState(s); // first, so that a failure below is cleaned up by `down` or here
  let restarted = false;
  try {
    if (r.kind === 'bird') {
      const { startLabBird } = await import('./bird');
      r.pid = (await startLabBird(s, r.name, r.ip, birdConf(s, r))).pid;
    } else {
      const { startLabFrr } = await import('./frr');
      r.pid = (await startLabFrr(s, r.name, r.ip, frrConf(s, r))).pid;
    }
    saveState(s);
    restarted = true;
    await lab.restartAgents();
    await waitEstablished(lab, [r]);
    return r;
  } catch (e) {
    await dropRouter(lab, r).catch(() => undefined);
    if (restarted) await lab.restartAgents().catch(() => undefined); // back to the flags without it
    throw e;
  }
}

/** Stops the router, removes its namespace and record, and restarts the agents without it. */
export async function removeRouter(lab: Lab, name: string): Promise<LabRouterState> {
  const r = (lab.state.routers ?? []).find((x) => x.name === name);
  if (!r) throw new BerthError(`no router "${name}" in lab ${lab.state.name} (routers: ${(lab.state.routers ?? []).map((x) => x.name).join(', ') || 'none'})`, { field: 'ROUTER' });
  await dropRouter(lab, r);
  await lab.restartAgents();
  await waitEstablished(lab, lab.state.routers ?? []);
  return r;
}

async function dropRouter(lab: Lab, r: LabRouterState): Promise<void> {
  // by namespace too: a daemon that never answered has no recorded pid
  const ino = nsInode(nsPath(r.ns));
  await stopPids([...(r.pid !== undefined ? [r.pid] : []), ...(ino !== undefined ? pidsInNamespaces(new Set([ino])) : [])]);
  deleteNamespace(r.ns);
  fs.rmSync(r.dir, { recursive: true, force: true });
  lab.state.routers = (lab.state.routers ?? []).filter((x) => x !== r);
  if (!lab.state.routers.length) delete lab.state.routers;
  saveState(lab.state);
}

function nextName(role: RouterRole, taken: string[]): string {
  for (let i = 1; ; i++) if (!taken.includes(`${role}${i}`)) return `${role}${i}`;
}

function freeAddress(lab: Lab): string {
  const used = new Set([...lab.state.nodes.map((n) => n.ip), ...(lab.state.routers ?? []).map((r) => r.ip)]);
  for (let h = FIRST_ROUTER_HOST; h >= LAST_ROUTER_HOST; h--) if (!used.has(`${UNDERLAY_PREFIX}.${h}`)) return `${UNDERLAY_PREFIX}.${h}`;
  throw new BerthError(`lab ${lab.state.name} has no underlay address left for a router`, { field: '--name' });
}

/** Until every running agent reports an Established session with each of `routers`. */
export async function waitEstablished(lab: Lab, routers: LabRouterState[], timeoutMs = ESTABLISHED_TIMEOUT_MS): Promise<void> {
  const end = Date.now() + timeoutMs;
  const nodes = lab.state.nodes.filter((n) => n.agentPid !== undefined);
  for (;;) {
    const lagging: string[] = [];
    for (const n of nodes) {
      const peers = (await askAgent(n.runDir, 'bgp.peers').catch(() => [])) as PeerStatus[];
      for (const r of routers) if (!peers.some((p) => p.address === r.ip && p.state === 'Established')) lagging.push(`${n.name}-${r.name}`);
    }
    if (!lagging.length) return;
    if (Date.now() > end) throw new BerthError(`BGP sessions not Established after ${timeoutMs} ms: ${lagging.join(', ')}`);
    await new Promise((res) => setTimeout(res, 100));
  }
}
