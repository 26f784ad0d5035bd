// A multi-node network on one machine, all inside namespaces the lab creates: `Lab.up` builds the world
// namespace (underlay bridge), N node namespaces, etcd when asked, and an agent per node; `Lab.down` (or
// `berth lab down`) removes all of it, by PID and by namespace name, even after a crash half-way up.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BerthError } from '../util/errors';
import { NodeSettings, readJson } from '../cni/agent/settings';
import { spawnAgent, stopAgent, waitAgentReady } from './agent';
import { scaled } from './time-scale';
import { startEtcd } from './etcd';
import { checkLabName, labDir, LAB_ROOT, MAX_NODES, nodeIp, nodeName, nodeNs, nsPath, nsPrefix, onSecondSubnet, podNs, ROUTER_NODE, UNDERLAY2_PREFIX, worldNs } from './names';
import { createPod, Pod, removePod } from './pods';
import { nsInode, pidsInNamespaces, stopPids } from './procs';
import { NsRun, runIn, spawnIn } from './sh';
import { LabNetwork, LabNodeState, LabRouterState, LabState, LabStore, loadState, saveState } from './state';
import { createNode, createSecondSubnet, createWorld, deleteNamespace, namespacesWithPrefix, routeToOtherSubnet } from './topology';

export interface LabOptions {
  name: string;
  nodes: number;
  network?: LabNetwork;
  store?: LabStore;
  cidr?: string;
  subnetLen?: number;
  /** lease TTL and reconcile period, seconds */
  ttlS?: number;
  intervalS?: number;
  /** underlay MTU */
  mtu?: number;
  vni?: number;
  port?: number;
  /** start an agent on every node (default true) */
  agents?: boolean;
  /** underlay subnets: 1 (one L2 segment, the default) or 2 (joined by a router namespace) */
  subnets?: number;
  /** more `berth agent run` flags for every agent of the lab (e.g. --bgp-ipip cross-subnet) */
  agentArgs?: string[];
  root?: string;
}

export class Lab {
  private constructor(readonly state: LabState) {}

  static async up(o: LabOptions): Promise<Lab> {
    const name = checkLabName(o.name);
    if (!Number.isInteger(o.nodes) || o.nodes < 1 || o.nodes > MAX_NODES) throw new BerthError(`want 1 to ${MAX_NODES} nodes, got ${o.nodes}`, { field: '--nodes' });
    const network = o.network ?? 'vxlan';
    if (network !== 'vxlan' && network !== 'bgp' && network !== 'host-gw') throw new BerthError(`unknown network "${String(network)}" (want vxlan, bgp or host-gw)`, { field: '--network' });
    const subnets = o.subnets ?? 1;
    if (subnets !== 1 && subnets !== 2) throw new BerthError(`want 1 or 2 underlay subnets, got ${subnets}`, { field: '--subnets' });
    if (subnets === 2 && o.nodes < 2) throw new BerthError('two underlay subnets need at least 2 nodes', { field: '--subnets' });
    const store = o.store ?? 'embedded';
    if (store !== 'embedded' && store !== 'etcd') throw new BerthError(`unknown store "${String(store)}" (want embedded or etcd)`, { field: '--store' });
    const dir = labDir(name, o.root ?? LAB_ROOT);
    if (loadState(dir) || namespacesWithPrefix(nsPrefix(name)).length) throw new BerthError(`lab "${name}" is already up (berth lab down --name ${name})`, { field: '--name' });
    const world = worldNs(name);
    const nodes: LabNodeState[] = [];
    for (let i = 1; i <= o.nodes; i++) nodes.push(nodeRecord(name, dir, i, onSecondSubnet(i, o.nodes, subnets)));
    const state: LabState = {
      name, dir, network, store, cidr: o.cidr ?? '10.244.0.0/16', subnetLen: o.subnetLen ?? 24, ttlS: o.ttlS ?? 10, intervalS: o.intervalS ?? 1,
      underlayMtu: o.mtu ?? 1500, vni: o.vni ?? 1, port: o.port ?? 4789, world, nodes, storeDir: path.join(dir, 'store'), createdAt: new Date().toISOString(),
      ...(subnets === 2 ? { subnets, router: nodeNs(name, ROUTER_NODE) } : {}),
      ...(o.agentArgs?.length ? { agentArgs: o.agentArgs } : {}),
    };
    const lab = new Lab(state);
    try {
      saveState(state); // first, so a failure below can always be cleaned up
      createWorld(world, state.underlayMtu);
      if (state.router) createSecondSubnet(world, state.router, state.underlayMtu);
      for (const n of nodes) wireNode(state, n);
      saveState(state);
      if (store === 'etcd') {
        state.etcd = await startEtcd(world, dir);
        saveState(state);
      }
      if (o.agents !== false) await lab.startAgents(nodes.map((n) => n.name));
      return lab;
    } catch (e) {
      await Lab.down(name, o.root).catch(() => undefined);
      throw e;
    }
  }

  /**
   * Adds node n<max+1> to the running lab: its namespace on underlay subnet `subnet` (1, or 2 in a lab made
   * with two), wired as `up` wires a node, and its agent started with the lab's flags (and its routers'
   * peers); resolves once every agent sees it. A node that fails to come up is removed again.
   */
  async join(o: { subnet?: number } = {}): Promise<LabNodeState> {
    const s = this.state;
    const subnet = checkJoinSubnet(o.subnet ?? 1);
    if (subnet === 2 && !s.router) throw new BerthError(`lab ${s.name} has one underlay subnet (berth lab up --subnets 2 makes two)`, { field: '--subnet' });
    const i = Math.max(0, ...s.nodes.map((n) => Number(n.name.slice(1)))) + 1;
    if (i > MAX_NODES) throw new BerthError(`lab ${s.name} has node n${MAX_NODES} already (at most ${MAX_NODES})`, { field: 'berth lab join' });
    const node = nodeRecord(s.name, s.dir, i, subnet === 2);
    s.nodes.push(node);
    saveState(s); // first, so that `down` finds the node whatever happens below
    try {
      wireNode(s, node);
      await this.startAgents([node.name]);
      if (s.routers?.length) await (await import('./routers')).waitEstablished(this, s.routers);
      return node;
    } catch (e) {
      await stopAgent(node.agentPid).catch(() => undefined);
      deleteNamespace(node.ns);
      fs.rmSync(path.dirname(node.runDir), { recursive: true, force: true });
      s.nodes = s.nodes.filter((n) => n !== node);
      saveState(s);
      throw e;
    }
  }

  /** The lab as recorded on disk. */
  static load(name: string, root = LAB_ROOT): Lab {
    const s = loadState(labDir(checkLabName(name), root));
    if (!s) throw new BerthError(`lab "${name}" is not up`, { field: '--name' });
    return new Lab(s);
  }

  /**
   * Removes everything of lab `name`: agents (SIGTERM; the lab's store goes with it), every other process in
   * its namespaces, the namespaces, the directory. Works from the record or, lacking it, by name prefix.
   */
  static async down(name: string, root = LAB_ROOT): Promise<{ namespaces: string[]; pids: number[] }> {
    checkLabName(name);
    const dir = labDir(name, root);
    const s = loadState(dir);
    const agentPids = (s?.nodes ?? []).map((n) => n.agentPid).filter((p): p is number => p !== undefined);
    const namespaces = namespacesWithPrefix(nsPrefix(name));
    const inodes = new Set(namespaces.map((n) => nsInode(nsPath(n))).filter((i): i is number => i !== undefined));
    const inLab = new Set(agentPids.filter((p) => inodes.has(nsInode(`/proc/${p}/ns/net`) ?? -1)));
    await stopPids([...inLab]);
    const rest = pidsInNamespaces(inodes);
    await stopPids(rest);
    // pods first, world last, so no veth peer is left pointing into a half-removed namespace
    for (const ns of [...namespaces].sort((a, b) => b.length - a.length)) deleteNamespace(ns);
    fs.rmSync(dir, { recursive: true, force: true });
    removeIfEmpty(root);
    return { namespaces, pids: [...inLab, ...rest] };
  }

  async down(): Promise<void> {
    await Lab.down(this.state.name, path.dirname(this.state.dir));
  }

  node(name: string): LabNodeState {
    const n = this.state.nodes.find((x) => x.name === name);
    if (!n) throw new BerthError(`no node "${name}" in lab ${this.state.name} (nodes: ${this.state.nodes.map((x) => x.name).join(', ')})`, { field: 'NODE' });
    return n;
  }

  /** Namespace of a node, or "world". */
  nsOf(target: string): string {
    return target === 'world' ? this.state.world : this.node(target).ns;
  }

  exec(target: string, cmd: string, args: string[], opts?: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number }): NsRun {
    return runIn(this.nsOf(target), cmd, args, opts);
  }

  spawn(target: string, cmd: string, args: string[], opts?: import('node:child_process').SpawnOptions): import('node:child_process').ChildProcess {
    return spawnIn(this.nsOf(target), cmd, args, opts);
  }

  /** Starts agents on these nodes at the same instant, then waits for all of them. */
  async startAgents(names: string[], extra: string[] = []): Promise<NodeSettings[]> {
    const started = names.map((n) => {
      const node = this.node(n);
      node.agentPid = spawnAgent(this.state, node, extra);
      return node;
    });
    saveState(this.state);
    const settings = await Promise.all(started.map((n) => waitAgentReady(n, n.agentPid!)));
    await this.waitConverged();
    return settings;
  }

  /** Restarts every running agent (SIGTERM: hitless) so that it takes the lab's current flags (routers). */
  async restartAgents(): Promise<void> {
    const running = this.state.nodes.filter((n) => n.agentPid !== undefined).map((n) => n.name);
    await Promise.all(running.map((n) => this.stopAgent(n)));
    if (running.length) await this.startAgents(running);
  }

  /** A BIRD or FRR route reflector or top-of-rack router peering with every node (./routers.ts). */
  async addRouter(o: import('./routers').RouterOptions): Promise<LabRouterState> {
    return (await import('./routers')).addRouter(this, o);
  }

  async removeRouter(name: string): Promise<LabRouterState> {
    return (await import('./routers')).removeRouter(this, name);
  }

  /** Until every running agent forwards to every other running node (their first ticks may predate the last join). */
  async waitConverged(timeoutMs = scaled(20_000)): Promise<void> {
    const end = Date.now() + timeoutMs;
    const running = this.state.nodes.filter((n) => n.agentPid !== undefined);
    for (;;) {
      const lagging = running.filter((n) => {
        const st = readJson<{ peers?: string[]; pid?: number }>(path.join(n.runDir, 'status.json'));
        return st?.pid !== n.agentPid || running.some((o) => o !== n && this.reachable(n, o) && !st?.peers?.includes(o.name));
      });
      if (lagging.length === 0) return;
      if (Date.now() > end) throw new BerthError(`agents of ${lagging.map((n) => n.name).join(', ')} do not see all nodes after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** host-gw refuses a node on the other underlay subnet; every other network reaches every node */
  private reachable(a: LabNodeState, b: LabNodeState): boolean {
    const subnet = (ip: string): string => ip.split('.').slice(0, 3).join('.');
    return this.state.network !== 'host-gw' || subnet(a.ip) === subnet(b.ip);
  }

  /** SIGTERM: a hitless restart (lease and kernel state kept). SIGINT: the node leaves (lease released). SIGKILL: a crash. */
  async stopAgent(name: string, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const node = this.node(name);
    await stopAgent(node.agentPid, signal);
    node.agentPid = undefined;
    saveState(this.state);
  }

  settings(name: string): NodeSettings {
    return JSON.parse(fs.readFileSync(path.join(this.node(name).runDir, 'subnet.json'), 'utf8')) as NodeSettings;
  }

  /** A namespace on node `node`, attached to the overlay with berth-vxlan. */
  addPod(node: string, pod: string): Pod {
    return createPod(this.node(node), pod, podNs(this.state.name, node, pod));
  }

  removePod(pod: Pod): void {
    removePod(this.node(pod.node), pod);
  }
}

export function checkJoinSubnet(subnet: number): number {
  if (subnet !== 1 && subnet !== 2) throw new BerthError(`want underlay subnet 1 or 2, got ${subnet}`, { field: '--subnet' });
  return subnet;
}

/** Node i's record: names, address, directories under the lab's. */
function nodeRecord(lab: string, dir: string, i: number, second: boolean): LabNodeState {
  const n = nodeName(i);
  const nd = path.join(dir, 'nodes', n);
  return { name: n, ns: nodeNs(lab, n), ip: nodeIp(i, second), runDir: path.join(nd, 'run'), dataDir: path.join(nd, 'data'), conflist: path.join(nd, 'net.d', '10-berth.conflist'), agentLog: path.join(nd, 'agent.log') };
}

/** A node's namespace on the underlay, its route to the other subnet, its conflist. */
function wireNode(s: LabState, n: LabNodeState): void {
  createNode(s.world, n.ns, n.name, n.ip, s.underlayMtu);
  if (s.router) routeToOtherSubnet(n.ns, n.ip.startsWith(`${UNDERLAY2_PREFIX}.`));
  fs.mkdirSync(path.dirname(n.conflist), { recursive: true });
  // host-gw pods attach like VXLAN ones (a bridge per node): flannel too has one plugin for both
  fs.writeFileSync(n.conflist, JSON.stringify({
    cniVersion: '1.1.0', name: 'berth', plugins: [{ type: s.network === 'bgp' ? 'berth-bgp' : 'berth-vxlan', subnetFile: path.join(n.runDir, 'subnet.json') }],
  }, null, 2) + '\n');
}

/** The last lab's `down` leaves no empty lab root (nor an empty /run/berth) behind. */
function removeIfEmpty(root: string): void {
  const dirs = root === LAB_ROOT ? [root, path.dirname(root)] : [root];
  for (const dir of dirs) {
    try {
      fs.rmdirSync(dir);
    } catch {
      return; // not empty, or gone: either way nothing of ours to remove
    }
  }
}
