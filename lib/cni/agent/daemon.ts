// The agent daemon: holds this node's subnet lease (acquired, renewed on its own timer at a third of the TTL
// whatever the tick is doing, re-acquired when lost; kept across a restart, released only when the node
// leaves), publishes the node's settings for the plugin, and on every tick reconciles the kernel from the
// store's live leases through the backend. It never replays events: each tick computes the wanted state,
// so missed ticks, restarts and hand edits all converge. A control socket answers `berth bgp` and
// `berth agent restart`.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as net from '../net';
import type { Backend, Published } from './backends/backend';
import { CONTROL_SOCKET, ControlServer, type ControlHandler } from './control/server';
import type { AgentConfig } from './agent-config';
import { JsonLog } from './log';
import { AgentStatus, NodeSettings, readJson, STATUS_FILE, SUBNET_FILE, writeJson } from './settings';
import { openStore } from './store/open';
import { Lease, LeaseLostError, SubnetStore } from './store/types';
import { subnetAddrs } from './subnets';
import { block6Of } from './subnets6';
import { VxlanBackend } from './backends/vxlan/backend';

const LAST_LEASE = 'last-lease.json';
/** written by a hitless stop: the next start is a graceful restart (RFC 4724 R bit) */
export const RESTART_MARK = 'restarting.json';

/** "leave": the node leaves the cluster (lease released). "restart": everything stays for the next run. */
export type StopMode = 'leave' | 'restart';

export class Agent {
  private lease?: Lease;
  private published?: Published;
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private leaseTimer?: NodeJS.Timeout;
  /** the lease work in flight (renew or acquire): one at a time */
  private leaseBusy?: Promise<Lease>;
  private control?: ControlServer;
  /** set by the control socket's restart: what the process does once stopped */
  onStopRequest?: (mode: StopMode) => void;
  private stopped = false;
  /** the backend's last refusals, logged when they change (not every tick) */
  private problems = '';
  private readonly status: AgentStatus;

  constructor(
    private readonly cfg: AgentConfig,
    private readonly store: SubnetStore,
    private readonly backend: Backend,
    private readonly log: JsonLog,
  ) {
    this.status = {
      node: cfg.node, pid: process.pid, backend: backend.name, store: store.kind, network: cfg.network, peers: [],
      startedAt: new Date().toISOString(), updatedAt: new Date().toISOString(), lastChanges: 0, totalChanges: 0, intervalMs: cfg.intervalMs,
    };
  }

  /** Opens the store and the backend named in cfg (the store driver is loaded only now). */
  static async create(cfg: AgentConfig, log: JsonLog): Promise<Agent> {
    const store = await openStore(cfg.store);
    // a hitless stop left this: peers kept our routes, so we come back as a restarting speaker
    const mark = path.join(cfg.dataDir, RESTART_MARK);
    const restarting = readJson(mark) !== undefined;
    fs.rmSync(mark, { force: true });
    // the agent runs inside the node's network namespace: this socket is bound to it
    const vxlan = { vni: cfg.vni, port: cfg.port, iface: cfg.iface, publicIp: cfg.publicIp };
    const backend = cfg.backend === 'bgp'
      ? new (require('./backends/bgp/backend') as typeof import('./backends/bgp/backend')).BgpBackend(new net.Rtnl(), { iface: cfg.iface, publicIp: cfg.publicIp, network: cfg.network, subnetLen: cfg.subnetLen, runDir: cfg.runDir, bgp: cfg.bgp!, restarting, vxlan })
      : cfg.backend === 'host-gw'
        ? new (require('./backends/hostgw/backend') as typeof import('./backends/hostgw/backend')).HostGwBackend(new net.Rtnl(), { iface: cfg.iface, publicIp: cfg.publicIp })
        : new VxlanBackend(new net.Rtnl(), { ...vxlan, directRouting: cfg.directRouting });
    return new Agent(cfg, store, backend, log);
  }

  private policy(): { network: string; subnetLen: number; ttlMs: number } {
    return { network: this.cfg.network, subnetLen: this.cfg.subnetLen, ttlMs: this.cfg.ttlMs };
  }

  private async acquire(): Promise<Lease> {
    const pub = this.published ?? (await this.backend.prepare());
    this.published = pub;
    // the subnet we had before a restart: reused when nobody took it meanwhile
    const preferred = readJson<Lease>(path.join(this.cfg.dataDir, LAST_LEASE))?.subnet;
    const lease = await this.store.acquire({ node: this.cfg.node, publicIp: pub.publicIp, vtepMac: pub.vtepMac, backend: this.backend.name }, this.policy(), preferred);
    writeJson(this.cfg.dataDir, LAST_LEASE, lease);
    this.log.info('lease acquired', { subnet: lease.subnet, preferred, reused: preferred === lease.subnet, ttlMs: this.cfg.ttlMs });
    this.writeSettings(lease, pub);
    return lease;
  }

  private writeSettings(lease: Lease, pub: Published): void {
    const settings: NodeSettings = {
      node: this.cfg.node, backend: this.backend.name, network: this.cfg.network, subnet: lease.subnet,
      subnet6: block6Of(this.cfg.network, this.cfg.subnetLen, lease.subnet, this.cfg.bgp?.ipv6),
      gateway: subnetAddrs(lease.subnet).gateway, mtu: pub.mtu, ipamDataDir: path.join(this.cfg.dataDir, 'ipam'),
    };
    const file = path.join(this.cfg.runDir, SUBNET_FILE);
    const old = readJson<NodeSettings>(file);
    if (JSON.stringify(old) !== JSON.stringify(settings)) writeJson(this.cfg.runDir, SUBNET_FILE, settings);
  }

  /** keepLease, one at a time: the lease timer and a tick may both ask. */
  private leaseNow(): Promise<Lease> {
    if (!this.leaseBusy) this.leaseBusy = this.keepLease().finally(() => { this.leaseBusy = undefined; });
    return this.leaseBusy;
  }

  /** Renews when a third of the TTL has passed, re-acquires when the lease was lost. */
  private async keepLease(): Promise<Lease> {
    if (!this.lease) return (this.lease = await this.acquire());
    const due = this.lease.expiresAt === 0 || Date.now() >= this.lease.expiresAt - (this.cfg.ttlMs * 2) / 3;
    if (!due) return this.lease;
    try {
      this.lease = await this.store.renew(this.lease, this.cfg.ttlMs);
    } catch (e) {
      if (!(e instanceof LeaseLostError)) throw e;
      this.log.warn('lease lost, acquiring again', { subnet: this.lease.subnet, error: e.message });
      this.lease = await this.acquire();
    }
    return this.lease;
  }

  /** One pass: lease, then the kernel from the store. */
  async tick(): Promise<string[]> {
    let lease = this.lease ?? (await this.leaseNow());
    const all = await this.store.list();
    const report = await this.backend.reconcile(lease, all);
    const pub = report.published;
    if (pub.vtepMac !== lease.vtepMac || pub.publicIp !== lease.publicIp) {
      // the device was recreated (new MAC) or the underlay moved: tell the other nodes now
      this.log.warn('published attributes changed', { vtepMac: pub.vtepMac, publicIp: pub.publicIp, was: { vtepMac: lease.vtepMac, publicIp: lease.publicIp } });
      lease = this.lease = await this.store.renew({ ...lease, vtepMac: pub.vtepMac, publicIp: pub.publicIp }, this.cfg.ttlMs);
    }
    this.published = pub;
    this.writeSettings(lease, pub);
    const problems = report.problems ?? [];
    if (problems.join('\n') !== this.problems) for (const p of problems) this.log.error('node refused', { error: p });
    this.problems = problems.join('\n');
    if (report.changes.length) this.log.info('reconciled', { changes: report.changes, peers: report.peers });
    else this.log.debug('reconciled, nothing to change', { peers: report.peers });
    Object.assign(this.status, {
      subnet: lease.subnet, mtu: pub.mtu, publicIp: pub.publicIp, vtepMac: pub.vtepMac, leaseExpiresAt: lease.expiresAt,
      peers: report.peers, updatedAt: new Date().toISOString(), lastChanges: report.changes.length,
      totalChanges: this.status.totalChanges + report.changes.length, lastError: problems[0],
    });
    this.writeStatus();
    return report.changes;
  }

  private writeStatus(): void {
    writeJson(this.cfg.runDir, STATUS_FILE, this.status);
  }

  /** First tick (errors propagate: a node that cannot start should say so), then one per interval. */
  async start(): Promise<void> {
    this.log.info('agent starting', { node: this.cfg.node, network: this.cfg.network, subnetLen: this.cfg.subnetLen, store: this.store.kind, backend: this.backend.name, pid: process.pid });
    await this.tick();
    this.control = new ControlServer(path.join(this.cfg.runDir, CONTROL_SOCKET), () => this.controlHandlers());
    await this.control.listen();
    this.scheduleLease();
    this.schedule();
  }

  private controlHandlers(): Record<string, ControlHandler> {
    const stopWith = (mode: StopMode): ControlHandler => () => {
      if (!this.onStopRequest) throw new Error('this agent cannot be stopped over the socket');
      setImmediate(() => this.onStopRequest!(mode));
      return { pid: process.pid, mode };
    };
    return { status: () => this.status, restart: stopWith('restart'), leave: stopWith('leave'), ...this.backend.controlHandlers?.() };
  }

  /**
   * The lease's own timer, apart from the tick: a tick stuck behind a big table never lets the lease
   * expire. Checked every sixth of the TTL; keepLease renews once a third of it has passed.
   */
  private scheduleLease(): void {
    if (this.stopped) return;
    this.leaseTimer = setTimeout(() => {
      this.leaseNow().catch((e: Error) => this.log.error('lease renewal failed', { error: e.message }))
        .finally(() => this.scheduleLease());
    }, Math.max(100, this.cfg.ttlMs / 6));
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.tick().then(() => undefined, (e: unknown) => {
        const msg = e instanceof Error ? e.message : String(e);
        this.status.lastError = msg;
        this.status.updatedAt = new Date().toISOString();
        this.log.error('reconcile failed', { error: msg });
        try { this.writeStatus(); } catch { /* status is best effort */ }
      }).finally(() => { this.running = undefined; this.schedule(); });
    }, this.cfg.intervalMs);
  }

  /**
   * Stops ticking. "leave" gives the subnet back so others see this node go at once; "restart" keeps the
   * lease (it outlives us by its TTL) and the kernel state, and the backend stops as a graceful restart.
   */
  async stop(mode: StopMode | false): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.leaseTimer) clearTimeout(this.leaseTimer);
    await this.control?.close().catch(() => undefined);
    await this.running;
    await this.leaseBusy?.catch(() => undefined);
    if (mode === 'leave' && this.lease) {
      await this.store.release(this.lease).catch((e: Error) => this.log.error('release failed', { error: e.message }));
      this.log.info('lease released', { subnet: this.lease.subnet });
    }
    if (mode === 'restart') {
      // a whole TTL for the gap until the next run renews it (the timer may have renewed up to two thirds ago)
      if (this.lease) await this.store.renew(this.lease, this.cfg.ttlMs).catch((e: Error) => this.log.error('lease renewal failed', { error: e.message }));
      writeJson(this.cfg.dataDir, RESTART_MARK, { at: new Date().toISOString(), pid: process.pid });
    }
    await this.store.close();
    await this.backend.close(mode === 'restart');
    this.log.info('agent stopped', { mode: mode || 'failed' });
  }
}
