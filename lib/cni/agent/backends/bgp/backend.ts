// The BGP backend (Calico's routed model): no tunnel device. A speaker per node announces the node's
// block, peers with every other node of the store (full iBGP mesh, peers follow the leases) and with
// configured external peers (route reflector, top-of-rack); best routes go into the kernel through
// FibSync with protocol 186. A blackhole route for the block drops traffic to unassigned addresses of it
// (the containers' /32 routes, added by berth-bgp, are more specific). With an encapsulation (Calico's
// IPIP or VXLAN, always or cross-subnet: ./tunnel.ts) the routes to tunnelled nodes go through the
// tunnel device instead (./encap-fib.ts) and containers get the tunnel's smaller MTU.
import * as net from '../../../net';
import { BerthError } from '../../../../util/errors';
import type { BgpSpeaker, FibSync, PeerConfig, SelectionEnd } from '../../../bgp';
import type { Backend, Published, ReconcileReport } from '../backend';
import { selectionDeferralOf, type BgpAgentConfig } from './config';
import { planPeers, samePeer } from './plan';
import { block6Of } from '../../subnets6';
import { BGP_STATUS_FILE, type BgpStatusFile } from './status';
import { bgpControlHandlers } from './control';
import type { ControlHandler } from '../../control/server';
import { writeJson } from '../../settings';
import type { Lease } from '../../store/types';
import { readUnderlay, type Underlay } from '../underlay';
import { BgpTunnel, type VxlanParams } from './tunnel';
import { openStrictRtnl } from '../../../net/nl/socket';

const RTPROT_BGP = 186;
/**
 * The kernel is dumped and compared with the Loc-RIB every FIB_RESYNC_TICKS ticks (under a minute at 5 s)
 * per FIB_RESYNC_ROUTES routes we hold. FibSync knows what it wrote, so a resync only repairs hand edits,
 * which are rare; a dump costs the whole table in CPU (it streams, compared route by route, so its memory
 * stays small: bench/bgp-resync; 500k routes about 2 s of a core), so a big table is resynced proportionally more rarely and its cost per tick stays about constant
 * (1M routes: every 1000 ticks, about 80 minutes at 5 s). A small table keeps the one-minute repair.
 */
const FIB_RESYNC_TICKS = 10;
const FIB_RESYNC_ROUTES = 10_000;

export interface BgpBackendOptions {
  iface: string;
  publicIp?: string;
  network: string;
  subnetLen: number;
  runDir: string;
  bgp: BgpAgentConfig;
  /** the previous run stopped hitlessly: OPEN with the graceful-restart R bit */
  restarting?: boolean;
  /** VNI and port of the VXLAN device, with bgp.encap kind "vxlan" */
  vxlan?: VxlanParams;
}

export class BgpBackend implements Backend {
  readonly name = 'bgp' as const;
  private speaker?: BgpSpeaker;
  private fib?: FibSync;
  private block?: string;
  /** our IPv6 block, when the network has an IPv6 range */
  private block6?: string;
  private readonly peers = new Map<string, PeerConfig>();
  /** every family's kernel routes were compared with the Loc-RIB once (after our restart: once selected) */
  private fibReconciled = false;
  /** RFC 4724 §4.1: families whose deferred selection ended, each awaiting its one FIB reconcile */
  private readonly selected: { afi: 1 | 2; why: SelectionEnd }[] = [];
  /** this run started with route selection deferred */
  private deferred = false;
  private ticks = 0;
  /** FibSync's changesSeen at the previous tick (see the resync in reconcile) */
  private changesAtLastTick = 0;
  /** the blackhole routes were checked against the kernel for the current blocks */
  private blackholesChecked = false;
  /** for the blackhole look-ups: a socket whose dumps the kernel filters */
  private strict?: net.Rtnl;

  private readonly tunnel: BgpTunnel;

  constructor(private readonly nl: net.Rtnl, private readonly o: BgpBackendOptions) {
    this.tunnel = new BgpTunnel(nl, o.bgp.encap, o.vxlan ?? { vni: 1, port: 4789 }, net.parseCidr(o.network));
  }

  private async underlay(): Promise<Underlay & { ip6?: string }> {
    const u = await readUnderlay(this.nl, this.o.iface, this.o.publicIp);
    // IPv6 blocks are announced with our global IPv6 underlay address as next hop
    let ip6: string | undefined;
    if (this.o.bgp.ipv6) {
      ip6 = (await net.listAddrs(this.nl, { index: u.index, family: 6 })).find((x) => x.scope === 0)?.ip;
      if (!ip6) throw new BerthError(`underlay interface ${this.o.iface} has no global IPv6 address (needed with --network6)`, { field: '--iface' });
    }
    return { ...u, ip6 };
  }

  /** containers get the underlay's MTU, less the tunnel's overhead with an encapsulation */
  private published(u: Underlay): Published {
    return { publicIp: u.ip, vtepMac: this.tunnel.vtepMac, mtu: u.mtu - this.tunnel.overhead };
  }

  async prepare(localSubnet?: string): Promise<Published> {
    net.writeSysctl('net.ipv4.ip_forward', '1');
    if (this.o.bgp.ipv6) net.writeSysctl('net.ipv6.conf.all.forwarding', '1');
    const u = await this.underlay();
    // the tunnel device exists before any route through it
    await this.tunnel.ensure(u, localSubnet, []);
    return this.published(u);
  }

  private async startSpeaker(routerId: string, blocks: string[], peers: PeerConfig[], changes: string[]): Promise<BgpSpeaker> {
    // loaded here: only the bgp backend needs the speaker
    const bgp = require('../../../bgp') as typeof import('../../../bgp');
    const kernel = this.o.bgp.encap
      ? new (require('./encap-fib') as typeof import('./encap-fib')).EncapFib(new bgp.NetlinkFib(), this.nl, this.tunnel.tunnelFor)
      : new bgp.NetlinkFib();
    const fib = new bgp.FibSync(kernel);
    const c = this.o.bgp;
    // routes of ours already in the kernel were installed by our previous run (a restart, or a crash): they
    // stay until each family's selection is done (RFC 4724 §4.1), so neither is installed half-learnt
    const leftover = await fib.loadKernel();
    const defer = this.o.restarting === true || leftover > 0;
    this.deferred = defer;
    const speaker = new bgp.BgpSpeaker({
      asn: c.asn, routerId, listen: { address: routerId, port: c.port }, peers: [], originate: blocks,
      gracefulRestartTime: c.grTime,
      ...(c.maxPaths ? { maxPaths: c.maxPaths } : {}),
      // the kernel routes stay when the agent dies or restarts, so peers may keep forwarding to us
      preserveForwarding: true,
      restarted: this.o.restarting,
      ...(c.notificationRestart ? { notificationRestart: true } : {}),
      // the speaker picks its cluster id at start, before any (client) peer is added: give it here
      ...(c.routeReflector || c.rrClients ? { clusterId: c.clusterId ?? routerId } : {}),
      onBestChange: (ch) => fib.update(ch),
      backpressure: () => fib.backpressure(),
      ...(defer ? { selectionDeferral: selectionDeferralOf(c), onSelectionDone: (afi, why) => { this.selected.push({ afi, why }); } } : {}),
    });
    this.fib = fib;
    // the peers before start(): selection waits for each of them, and starts without any if none is configured
    this.syncPeers(speaker, peers, changes);
    await speaker.start();
    if (defer) changes.push(`route selection deferred (RFC 4724) for at most ${selectionDeferralOf(c)} s: ${leftover} route(s) of the previous run kept until the peers' End-of-RIB`);
    return speaker;
  }

  /**
   * One blackhole route (protocol 186) for our block of a family (none when `block` is undefined); ones for
   * blocks we no longer hold are removed.
   */
  private async ensureBlackhole(family: 4 | 6, block: string | undefined, changes: string[]): Promise<void> {
    // the kernel picks them out of the table (a strict-check dump filtered by type and protocol): the cost
    // does not grow with the million routes beside them
    this.strict ??= openStrictRtnl();
    const mine = await net.listRoutes(this.strict, family, { table: net.RT_TABLE.MAIN, type: 'blackhole', protocol: RTPROT_BGP });
    for (const r of mine) {
      if (r.dst === block) continue;
      await net.delRoute(this.nl, { dst: r.dst, type: 'blackhole', protocol: RTPROT_BGP });
      changes.push(`blackhole ${r.dst} removed`);
    }
    if (block && !mine.some((r) => r.dst === block)) {
      await net.replaceRoute(this.nl, { dst: block, type: 'blackhole', protocol: RTPROT_BGP });
      changes.push(`blackhole ${block} added`);
    }
  }

  private syncPeers(speaker: BgpSpeaker, wanted: PeerConfig[], changes: string[]): void {
    const want = new Map(wanted.map((p) => [p.address, p]));
    for (const [addr, cfg] of this.peers) {
      const w = want.get(addr);
      if (w && samePeer(w, cfg)) continue;
      speaker.removePeer(addr);
      this.peers.delete(addr);
      changes.push(`bgp peer ${addr} removed`);
    }
    for (const [addr, cfg] of want) {
      if (this.peers.has(addr)) continue;
      speaker.addPeer(cfg);
      this.peers.set(addr, cfg);
      changes.push(`bgp peer ${addr} AS${cfg.asn} added`);
    }
  }

  async reconcile(own: Lease, all: Lease[]): Promise<ReconcileReport> {
    const changes: string[] = [];
    const u = await this.underlay();
    const newDevice = await this.tunnel.ensure(u, own.subnet, changes);
    // before the speaker: the first routes it installs already know which nodes are tunnelled
    const reshaped = (await this.tunnel.sync(own, all, changes)) || newDevice;
    const block6 = block6Of(this.o.network, this.o.subnetLen, own.subnet, this.o.bgp.ipv6);
    const planned = (): PeerConfig[] => planPeers(own, all, this.o.bgp, u.ip6, block6).map((w) => w.config);
    if (!this.speaker) {
      const blocks = block6 ? [own.subnet, block6] : [own.subnet];
      this.speaker = await this.startSpeaker(u.ip, blocks, planned(), changes);
      this.block = own.subnet;
      this.block6 = block6;
      changes.push(`bgp speaker AS${this.o.bgp.asn} router id ${u.ip} announcing ${blocks.join(' ')}`);
    } else if (this.block !== own.subnet) {
      if (this.block) this.speaker.withdraw(this.block);
      if (this.block6) this.speaker.withdraw(this.block6);
      this.speaker.announce(own.subnet);
      if (block6) this.speaker.announce(block6);
      changes.push(`bgp block ${this.block ?? '-'} -> ${own.subnet}${block6 ? ` and ${this.block6 ?? '-'} -> ${block6}` : ''}`);
      this.block = own.subnet;
      this.block6 = block6;
      this.blackholesChecked = false;
    }
    const speaker = this.speaker;
    const due = this.fibReconciled && ++this.ticks >= FIB_RESYNC_TICKS * Math.max(1, Math.ceil(this.fib!.installed / FIB_RESYNC_ROUTES));
    // a resync walks the Loc-RIB and dumps the kernel: not while routes stream in (a feed loading or
    // withdrawing), when the walk would follow a growing table and record every change it meets; a due
    // resync waits for a tick with no route change since the previous one
    const quiet = this.fib!.idle && this.fib!.changesSeen === this.changesAtLastTick;
    this.changesAtLastTick = this.fib!.changesSeen;
    const resync = due && quiet;
    if (resync) this.ticks = 0;
    // checked when the blocks change and with the periodic resync (a filtered dump: cheap, but not needed more)
    if (!this.blackholesChecked || resync) {
      await this.ensureBlackhole(4, own.subnet, changes);
      await this.ensureBlackhole(6, block6, changes);
      this.blackholesChecked = true;
    }
    this.syncPeers(speaker, planned(), changes);

    if (!this.fibReconciled) {
      // after our restart each family is reconciled alone once its selection is done; the kernel routes of
      // a family still deferred stay as the previous run left them
      for (const s of this.selected.splice(0)) {
        const fixed = await this.fib!.reconcile(speaker.bestRoutesIter(), s.afi === 1 ? 4 : 6, (p) => speaker.bestRoute(p));
        changes.push(`route selection done for ${s.afi === 1 ? 'IPv4' : 'IPv6'} (${s.why === 'timer' ? 'the deferral timer ran out' : 'End-of-RIB from every peer awaited'}): ${fixed} kernel route(s) changed`);
      }
      // (a family whose selection ended during those awaits waits for the next tick)
      if (speaker.selectionDeferral().length === 0 && this.selected.length === 0) {
        // without a deferral (nothing of ours in the kernel at start) the first tick reconciles everything
        if (!this.deferred) await this.fib!.reconcile(speaker.bestRoutesIter(), undefined, (p) => speaker.bestRoute(p));
        this.fibReconciled = true;
        changes.push('fib reconciled with the Loc-RIB');
      }
    } else if (resync || reshaped) {
      // FibSync trusts its record of what it wrote; a fresh dump now and then puts hand edits right
      const fixed = await this.fib!.reconcile(speaker.bestRoutesIter(), undefined, (p) => speaker.bestRoute(p));
      if (fixed) changes.push(`fib: ${fixed} route(s) put right`);
    } else await this.fib!.flush();
    this.writeStatus(speaker, u.ip);

    // the nodes we forward to: those whose block is a best route learnt by BGP (one lookup per node)
    const reach = all.filter((l) => l.node !== own.node && speaker.bestRoute(l.subnet)?.source.local === false).map((l) => l.node);
    return { changes, published: this.published(u), peers: reach };
  }

  /** A small summary, O(peers): the routes and per-peer counts are asked over the control socket. */
  private writeStatus(speaker: BgpSpeaker, routerId: string): void {
    const s: BgpStatusFile = {
      pid: process.pid, asn: this.o.bgp.asn, routerId, updatedAt: new Date().toISOString(),
      peers: speaker.peerSessions().map((p) => ({ ...p, since: new Date(p.since).toISOString() })), fibErrors: this.fib?.errors.slice(-20) ?? [],
    };
    const deferred = speaker.selectionDeferral();
    if (deferred.length) s.selectionDeferred = deferred;
    writeJson(this.o.runDir, BGP_STATUS_FILE, s);
  }

  controlHandlers(): Record<string, ControlHandler> {
    return this.speaker ? bgpControlHandlers(this.speaker) : {};
  }

  async close(restart = false): Promise<void> {
    // kernel routes stay either way (forwarding is preserved across our restart). A restart closes the
    // sessions without a NOTIFICATION, so peers keep our routes (RFC 4724); leaving sends Cease.
    await (restart ? this.speaker?.stopForRestart() : this.speaker?.stop())?.catch(() => undefined);
    await this.fib?.flush().catch(() => undefined);
    this.fib?.close();
    // a node that leaves takes its tunnel away (the routes through it go with the device)
    if (!restart) await this.tunnel.remove().catch(() => undefined);
    this.strict?.close();
    this.nl.close();
  }
}
