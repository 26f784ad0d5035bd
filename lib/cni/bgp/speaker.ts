// The BGP speaker: peers (sessions), the RIBs, policy and export glued together, like GoBGP's server
// package or a BIRD bgp protocol attached to its master table.
import * as net from 'node:net';
import { ConfigError } from '../../util/errors';
import { AFI, CEASE_SUB, REFRESH, type Afi } from './codec/constants';
import type { RouteRefreshMessage } from './codec/message';
import { emptyCapabilities, type Capabilities } from './codec/capabilities';
import { afiOf, normalizePrefix } from './codec/prefix';
import type { PathAttributes } from './codec/attributes';
import { isEndOfRib, endOfRib, type UpdateMessage } from './codec/update';
import { isHardReset, resolveCollision, type FsmAction, type FsmConfig, type FsmState } from './fsm';
import { Session } from './session';
import { Rib, type BestChange, type PathAnnouncement } from './rib';
import { AdjRibOut, buildUpdates, exportRoute, type ExportTarget } from './export';
import { evaluatePolicy } from './policy';
import { LOCAL_SOURCE_ID, type Route, type RouteSource } from './route';
import { validatePeer, validateSpeaker, type PeerConfig, type SpeakerOptions } from './speaker-config';
import { peerStatus, routeStatus, type PeerStatus, type RouteStatus } from './status';
import type { PeerState } from './peer-state';
import { SelectionDeferral, type FamilyDeferral, type SelectionEnd } from './selection-deferral';

export type { PeerConfig, SpeakerOptions } from './speaker-config';
export type { PeerStatus, RouteStatus } from './status';
export type { BestChange } from './rib';
export type { FamilyDeferral, SelectionEnd } from './selection-deferral';

/** A peer's session state, cheap to take (no route counts). */
export interface PeerSession { address: string; state: FsmState; since: number; gracefulRestart: boolean }

const DEFAULT_GR_TIME = 120;
const unmap = (a: string): string => a.replace(/^::ffff:/, '');

export class BgpSpeaker {
  private readonly opts: SpeakerOptions;
  private readonly rib: Rib;
  private readonly peerMap = new Map<string, PeerState>();
  private server?: net.Server;
  private running = false;
  /** stopForRestart is under way: sessions go down without touching the RIB */
  private leavingForRestart = false;
  private readonly clusterId?: string;
  /** RFC 4724 §4.1: set after our restart while some family's route selection is deferred */
  private readonly deferral?: SelectionDeferral;

  constructor(opts: SpeakerOptions) {
    validateSpeaker(opts);
    this.opts = opts;
    if (opts.selectionDeferral !== undefined) this.deferral = new SelectionDeferral([AFI.IPV4, AFI.IPV6], opts.selectionDeferral, (afi, why) => this.selectionDone(afi, why));
    if (opts.clusterId || opts.peers.some((p) => p.rrClient)) this.clusterId = opts.clusterId ?? opts.routerId;
    this.rib = new Rib((r) => this.importRoute(r), opts.maxPaths ?? 1);
    for (const p of opts.peers) this.createPeer(p);
    const local = opts.originate.map((p) => this.localRoute(p));
    this.rib.update(LOCAL_SOURCE_ID, local, []);
  }

  // ---------- public API ----------

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    if (this.opts.listen) {
      const srv = net.createServer((s) => this.onIncoming(s));
      this.server = srv;
      await new Promise<void>((resolve, reject) => {
        srv.once('error', reject);
        srv.listen(this.opts.listen!.port, this.opts.listen!.address, () => { srv.off('error', reject); resolve(); });
      });
    }
    for (const p of this.peerMap.values()) p.session.handle({ type: 'ManualStart' });
    // after the peers: a family nobody is awaited for ends here
    this.deferral?.start();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.deferral?.close();
    for (const p of this.peerMap.values()) this.stopPeer(p);
    const srv = this.server;
    this.server = undefined;
    if (srv) await new Promise<void>((resolve) => srv.close(() => resolve()));
  }

  /**
   * For the agent's hitless restart: closes every session without a NOTIFICATION (RFC 4724 §4), so peers
   * keep our routes stale until we are back with the R bit and send End-of-RIB, and leaves the RIB and
   * onBestChange alone (no withdrawals reach the FIB). The speaker is finished afterwards.
   */
  async stopForRestart(): Promise<void> {
    this.running = false;
    this.leavingForRestart = true;
    this.deferral?.close();
    for (const p of this.peerMap.values()) {
      for (const s of [p.session, p.pending]) { s?.handle({ type: 'GracefulStop' }); s?.close(); }
      p.pending = undefined;
      this.clearTimers(p);
    }
    const srv = this.server;
    this.server = undefined;
    if (srv) await new Promise<void>((resolve) => srv.close(() => resolve()));
  }

  addPeer(config: PeerConfig): void {
    validatePeer(config);
    const id = unmap(config.address);
    if (this.peerMap.has(id)) throw new ConfigError('peer.address', `peer ${id} exists`);
    const p = this.createPeer(config);
    if (this.running) p.session.handle({ type: 'ManualStart' });
  }

  removePeer(address: string): boolean {
    const p = this.peerMap.get(unmap(address));
    if (!p) return false;
    this.stopPeer(p);
    this.peerMap.delete(p.id);
    this.deferral?.removePeer(p.id);
    this.propagate(this.rib.removeSource(p.id));
    return true;
  }

  announce(prefix: string): void {
    this.propagate(this.rib.update(LOCAL_SOURCE_ID, [this.localRoute(prefix)], []));
  }

  withdraw(prefix: string): void {
    this.propagate(this.rib.update(LOCAL_SOURCE_ID, [], [normalizePrefix(prefix)]));
  }

  /** Like `birdc show protocols`. */
  peers(): PeerStatus[] {
    const awaited = this.selectionDeferral();
    return [...this.peerMap.values()].map((p) => {
      const s = peerStatus(p, this.rib);
      const families = awaited.filter((f) => f.waitingFor.includes(p.id)).map((f) => f.family);
      return families.length ? { ...s, awaitingEndOfRib: families } : s;
    });
  }

  /** RFC 4724 §4.1: the families whose route selection still waits after our restart, for whom, how long. */
  selectionDeferral(): FamilyDeferral[] {
    return this.deferral?.status() ?? [];
  }

  /** Loc-RIB as routes (for FibSync.reconcile at start-up). */
  bestRoutes(): Route[] {
    return this.rib.bestRoutes();
  }

  /** Loc-RIB without a copy: walk it once (a full table is a million routes); onBestChange streams the changes. */
  bestRoutesIter(): IterableIterator<Route> {
    return this.rib.bestIter();
  }

  /** Like `birdc show route`; `all` includes the routes that lost the decision. */
  routes(all = false): RouteStatus[] {
    const rs = all ? this.rib.candidateRoutes() : [...this.rib.bestIter()].map((route) => ({ route, best: true }));
    return rs.map((c) => routeStatus(c.route, c.best)).sort((a, b) => a.prefix.localeCompare(b.prefix) || Number(b.best) - Number(a.best));
  }

  // ---------- peers and sessions ----------

  private fsmConfig(c: PeerConfig): FsmConfig {
    const families = c.families ?? ['ipv4', 'ipv6'];
    const caps: Capabilities = emptyCapabilities();
    for (const f of families) caps.multiprotocol.push({ afi: f === 'ipv4' ? AFI.IPV4 : AFI.IPV6, safi: 1 });
    caps.routeRefresh = true;
    caps.enhancedRouteRefresh = true;
    caps.fourOctetAs = this.opts.asn;
    // RFC 4724 §3: always a receiving speaker; families listed only when our forwarding survives a restart
    // RFC 8538 §2: the N bit, so a NOTIFICATION other than Hard Reset keeps routes as a restart would
    caps.gracefulRestart = {
      restarting: this.opts.restarted === true, notification: this.opts.notificationRestart === true, restartTime: this.opts.gracefulRestartTime ?? DEFAULT_GR_TIME,
      families: this.opts.preserveForwarding ? caps.multiprotocol.map((f) => ({ ...f, forwardingPreserved: true })) : [],
    };
    return {
      localAs: this.opts.asn, routerId: this.opts.routerId, peerAs: c.asn, holdTime: c.holdTime ?? 90,
      connectRetryTime: c.connectRetryTime ?? 5, idleHoldTime: this.opts.idleHoldTime ?? 2, passive: c.passive ?? false,
      capabilities: caps,
    };
  }

  private newSession(p: PeerConfig, passive = false): Session {
    const cfg = this.fsmConfig(p);
    if (passive) cfg.passive = true;
    return new Session(cfg, { address: p.address, port: p.port ?? 179, localAddress: p.localAddress },
      { onAction: (s, a) => this.onSessionAction(s, a), backpressure: this.opts.backpressure }, p.asn !== this.opts.asn);
  }

  private createPeer(config: PeerConfig): PeerState {
    const id = unmap(config.address);
    const p: PeerState = {
      id, config, internal: config.asn === this.opts.asn, session: this.newSession(config), adjOut: new AdjRibOut(),
      since: Date.now(), staleFamilies: new Set(), refreshStale: new Set(), updatesIn: 0, updatesOut: 0,
    };
    this.peerMap.set(id, p);
    this.deferral?.addPeer(id);
    return p;
  }

  private stopPeer(p: PeerState): void {
    p.session.handle({ type: 'ManualStop' });
    p.session.close();
    p.pending?.handle({ type: 'ManualStop' });
    p.pending?.close();
    p.pending = undefined;
    this.clearTimers(p);
    this.propagate(this.rib.removeSource(p.id));
  }

  private clearTimers(p: PeerState): void {
    if (p.grTimer) clearTimeout(p.grTimer);
    p.grTimer = undefined;
    if (p.maxPrefixTimer) clearTimeout(p.maxPrefixTimer);
    p.maxPrefixTimer = undefined;
  }

  private peerOf(s: Session): PeerState | undefined {
    for (const p of this.peerMap.values()) if (p.session === s || p.pending === s) return p;
    return undefined;
  }

  private onIncoming(socket: net.Socket): void {
    const p = this.peerMap.get(unmap(socket.remoteAddress ?? ''));
    // not a configured neighbour, or one held down after max-prefix (RFC 4486)
    if (!p || !this.running || p.maxPrefixTimer) { socket.destroy(); return; }
    // RFC 4724 §4.2 (BIRD does the same): with graceful restart agreed, a connection while the session is
    // Established means the peer restarted before its old connection's end reached us; that session ends
    // as a restart (its routes kept, stale) and this connection takes its place
    if (p.session.fsm.state === 'Established' && p.session.fsm.negotiated?.peerOpen.capabilities.gracefulRestart) p.session.handle({ type: 'PeerReconnected' });
    const st = p.session.fsm.state;
    // in its idle hold (after a session went down) the session takes this connection without opening one
    // of its own: that one would only collide with it, and a collision whose loser had already sent its
    // KEEPALIVE can end the peer's winning session with a Cease, which drops routes kept for a graceful restart
    if (st === 'Idle') p.session.handle({ type: 'AutomaticStartPassive' });
    // no connection of ours in progress: this one becomes the session
    if (p.session.fsm.state === 'Active') { p.session.accept(socket); return; }
    // still Idle: stopped by hand (a disabled peer), and §8.2.2 Idle refuses connections; §6.8: with an
    // Established session (no graceful restart) the new connection is closed
    if (st === 'Idle' || st === 'Established') {
      socket.destroy();
      return;
    }
    // Connect/OpenSent/OpenConfirm: our own connection is under way; run the new one until its OPEN
    // names the peer, then keep one of the two (collision detection in onOpen)
    p.pending?.close();
    p.pending = this.newSession(p.config, true);
    p.pending.handle({ type: 'ManualStart' });
    p.pending.accept(socket);
  }

  private onSessionAction(s: Session, a: FsmAction): void {
    const p = this.peerOf(s);
    if (!p) return;
    switch (a.type) {
      case 'open': return this.onOpen(p, s, a.negotiated.peerRouterId);
      case 'established': return this.onEstablished(p, s);
      case 'down': return this.onDown(p, s, a);
      case 'update': return this.onUpdate(p, a.message);
      case 'route-refresh': return this.onRouteRefresh(p, a.message);
    }
  }

  /** RFC 2918 §4 and RFC 7313 §4: a refresh names one AFI/SAFI, and only that family is sent again. */
  private onRouteRefresh(p: PeerState, m: RouteRefreshMessage): void {
    const n = p.session.fsm.negotiated;
    if (!n || !p.source) return;
    // RFC 2918 §4: a family we did not negotiate is ignored
    if (!n.families.some((f) => f.afi === m.afi && f.safi === m.safi)) return;
    const enhanced = this.enhancedRefresh(p);
    const subtype = m.subtype ?? REFRESH.REQUEST;
    if (subtype === REFRESH.REQUEST) {
      // a deferred family is sent whole when its selection is done
      if (this.deferral?.deferred(m.afi)) return;
      // RFC 7313 §4: bracket the re-advertisement with BoRR and EoRR when both sides support it
      if (enhanced) p.session.send({ type: 'route-refresh', afi: m.afi, safi: m.safi, subtype: REFRESH.BEGIN });
      p.adjOut.clear(m.afi);
      this.syncPeer(p, undefined, m.afi);
      if (enhanced) p.session.send({ type: 'route-refresh', afi: m.afi, safi: m.safi, subtype: REFRESH.END });
      return;
    }
    // RFC 7313 §5: BoRR/EoRR without the negotiated capability, and unknown subtypes, are ignored
    if (!enhanced) return;
    if (subtype === REFRESH.BEGIN) {
      // §4.2: the peer's routes of this family are stale until its EoRR
      this.rib.markStale(p.id, m.afi);
      p.refreshStale.add(m.afi);
    } else if (subtype === REFRESH.END && p.refreshStale.delete(m.afi)) {
      this.propagate(this.rib.flushStale(p.id, m.afi));
    }
  }

  private enhancedRefresh(p: PeerState): boolean {
    return p.session.fsm.negotiated?.peerOpen.capabilities.enhancedRouteRefresh === true;
  }

  /** RFC 4271 §6.8 collision detection once an OPEN arrives on either connection. */
  private onOpen(p: PeerState, s: Session, remoteId: string): void {
    const other = s === p.session ? p.pending : p.session;
    if (!other) return;
    const os = other.fsm.state;
    if (os !== 'OpenSent' && os !== 'OpenConfirm') {
      if (os === 'Established') this.dump(p, s);
      else if (s === p.pending) { other.close(); p.session = s; p.pending = undefined; }
      return;
    }
    const keep = resolveCollision(this.opts.routerId, remoteId);
    const loser = s.direction === keep ? other : s;
    this.dump(p, loser);
  }

  private dump(p: PeerState, loser: Session): void {
    loser.handle({ type: 'OpenCollisionDump' });
    loser.close();
    if (loser === p.session && p.pending) p.session = p.pending;
    p.pending = undefined;
  }

  private onEstablished(p: PeerState, s: Session): void {
    if (s !== p.session) return;
    const n = s.fsm.negotiated!;
    // RFC 4724 §4.1: the R bit marks the first session after our restart only; later OPENs go without it
    const ourGr = s.fsm.config.capabilities.gracefulRestart;
    if (ourGr) ourGr.restarting = false;
    p.since = Date.now();
    p.lastError = undefined;
    p.source = {
      id: p.id, address: p.id, asn: n.peerAs, routerId: n.peerRouterId, internal: p.internal,
      rrClient: p.internal && (p.config.rrClient ?? false), local: false,
    };
    if (p.grTimer) {
      // RFC 4724 §4.2: the peer is back; stale routes of families whose forwarding state it did not
      // preserve go now, the others wait for End-of-RIB, at most the restart time
      clearTimeout(p.grTimer);
      const gr = n.peerOpen.capabilities.gracefulRestart;
      for (const afi of [...p.staleFamilies]) {
        if (gr?.families.some((f) => f.afi === afi && f.forwardingPreserved)) continue;
        p.staleFamilies.delete(afi);
        this.propagate(this.rib.flushStale(p.id, afi));
      }
      if (p.staleFamilies.size) p.grTimer = this.startStaleTimer(p, this.opts.gracefulRestartTime ?? DEFAULT_GR_TIME);
      else p.grTimer = undefined;
    }
    p.adjOut.clear();
    this.syncPeer(p);
    // RFC 4724 §2: End-of-RIB after the initial update of each family (§4.1: a deferred one's come after selection)
    for (const f of n.families) if (!this.deferral?.deferred(f.afi)) this.sendUpdate(p, endOfRib(f.afi));
    const gr = n.peerOpen.capabilities.gracefulRestart;
    this.deferral?.established(p.id, { gracefulRestart: gr !== undefined, restarting: gr?.restarting === true, families: n.families.map((f) => f.afi) });
  }

  /** RFC 4724 §4.1: selection for `afi` is done; the family goes to every peer, then its End-of-RIB. */
  private selectionDone(afi: Afi, why: SelectionEnd): void {
    for (const p of this.peerMap.values()) {
      if (p.session.fsm.state !== 'Established' || !p.source || !p.session.fsm.negotiated!.families.some((f) => f.afi === afi)) continue;
      this.syncPeer(p, undefined, afi);
      this.sendUpdate(p, endOfRib(afi));
    }
    this.opts.onSelectionDone?.(afi, why);
  }

  private onDown(p: PeerState, s: Session, a: Extract<FsmAction, { type: 'down' }>): void {
    if (s === p.pending) { s.close(); p.pending = undefined; return; }
    if (s !== p.session) return;
    p.since = Date.now();
    p.lastError = a.reason;
    p.adjOut.clear();
    p.refreshStale.clear();
    if (a.from !== 'Established' || this.leavingForRestart) return;
    p.source = undefined;
    const gr = a.negotiated?.peerOpen.capabilities.gracefulRestart;
    // RFC 4724 §4.2: a session lost without NOTIFICATION keeps the peer's routes (stale) for its restart time;
    // RFC 8538 §4: with the N bit on both sides so does any NOTIFICATION but a Hard Reset
    const graceful = !a.notification || (a.negotiated?.notificationRestart === true && !isHardReset(a.notification));
    if (gr && graceful && this.running) {
      this.rib.markStale(p.id);
      for (const afi of [AFI.IPV4, AFI.IPV6] as const) if (this.rib.receivedCount(p.id, afi) > 0) p.staleFamilies.add(afi);
      if (p.grTimer) clearTimeout(p.grTimer);
      p.grTimer = this.startStaleTimer(p, Math.min(gr.restartTime, this.opts.gracefulRestartTime ?? DEFAULT_GR_TIME));
      return;
    }
    this.dropStale(p);
    this.propagate(this.rib.removeSource(p.id));
  }

  private startStaleTimer(p: PeerState, seconds: number): NodeJS.Timeout {
    const t = setTimeout(() => {
      p.grTimer = undefined;
      p.staleFamilies.clear();
      this.propagate(this.rib.flushStale(p.id));
    }, seconds * 1000);
    t.unref();
    return t;
  }

  private dropStale(p: PeerState): void {
    if (p.grTimer) clearTimeout(p.grTimer);
    p.grTimer = undefined;
    p.staleFamilies.clear();
  }

  // ---------- routes in ----------

  private onUpdate(p: PeerState, m: UpdateMessage): void {
    if (!p.source) return;
    p.updatesIn++;
    const eor = isEndOfRib(m);
    if (eor !== undefined) {
      if (p.staleFamilies.delete(eor)) this.propagate(this.rib.flushStale(p.id, eor));
      if (p.staleFamilies.size === 0) this.dropStale(p);
      this.deferral?.endOfRib(p.id, eor);
      return;
    }
    const withdrawn = m.attrs.mpUnreach?.withdrawn.length ? [...m.withdrawn, ...m.attrs.mpUnreach.withdrawn] : m.withdrawn;
    // routes keep the path attributes only; the MP attributes' NLRI become routes or withdrawals here
    const { mpReach, mpUnreach: _, ...attrs } = m.attrs;
    let withdrawAll = m.treatAsWithdraw === true;
    // RFC 4271 §6.3 (treat-as-withdraw per RFC 7606 §7.2): an eBGP peer's AS must lead the path
    const first = attrs.asPath?.[0];
    if (!p.internal && (!first || first.type !== 2 || first.asns[0] !== p.config.asn)) withdrawAll ||= m.nlri.length > 0 || !!mpReach?.nlri.length;
    if (withdrawAll) {
      this.propagate(this.rib.update(p.id, [], [...withdrawn, ...m.nlri, ...(mpReach?.nlri ?? [])]));
      return;
    }
    // one attribute object for all the NLRI of this UPDATE (they share it on the wire, too)
    const source = p.source;
    const announced: PathAnnouncement[] = [];
    if (m.nlri.length) announced.push({ path: { afi: AFI.IPV4, attrs, source }, prefixes: m.nlri });
    if (mpReach?.nlri.length) {
      const mpAttrs: PathAttributes = { ...attrs, nextHop: mpReach.nextHop };
      announced.push({ path: { afi: mpReach.afi, attrs: mpAttrs, linkLocalNextHop: mpReach.linkLocalNextHop, source }, prefixes: mpReach.nlri });
    }
    this.propagate(this.rib.updatePaths(p.id, announced, withdrawn));
    this.checkMaxPrefixes(p);
  }

  /** RFC 4486 §4: over the limit, Cease 6/1 with AFI, SAFI and the limit; down for the restart time. */
  private checkMaxPrefixes(p: PeerState): void {
    const limit = p.config.maxPrefixes;
    const n = p.session.fsm.negotiated;
    if (limit === undefined || !n) return;
    const over = n.families.find((f) => this.rib.receivedCount(p.id, f.afi) > limit);
    if (!over) return;
    const data = Buffer.alloc(7);
    data.writeUInt16BE(over.afi, 0);
    data[2] = over.safi;
    data.writeUInt32BE(limit, 3);
    p.session.handle({ type: 'AutomaticStop', subcode: CEASE_SUB.MAX_PREFIXES, data });
    p.lastError = `max-prefix: more than ${limit} ${over.afi === AFI.IPV4 ? 'IPv4' : 'IPv6'} prefixes`;
    const t = setTimeout(() => {
      p.maxPrefixTimer = undefined;
      if (this.running) p.session.handle({ type: 'ManualStart' });
    }, (p.config.maxPrefixRestartTime ?? 60) * 1000);
    t.unref();
    p.maxPrefixTimer = t;
  }

  /** Loop checks, then the peer's import policy. */
  private importRoute(r: Route): Route | undefined {
    if (r.source.local) return r;
    const p = this.peerMap.get(r.source.id);
    if (!p) return undefined;
    // RFC 4271 §9.1.2: our own AS in the path is a loop
    if (r.attrs.asPath?.some((s) => s.asns.includes(this.opts.asn))) return undefined;
    // RFC 4456 §8: our own reflected route, or one that passed through our cluster
    if (r.attrs.originatorId === this.opts.routerId) return undefined;
    if (this.clusterId && r.attrs.clusterList?.includes(this.clusterId)) return undefined;
    if (p.config.importPolicy) return evaluatePolicy(p.config.importPolicy, r);
    // RFC 8212: without an explicit policy an external peer's routes are not accepted
    return p.internal ? r : undefined;
  }

  private localRoute(prefix: string): Route {
    const pfx = normalizePrefix(prefix);
    return {
      prefix: pfx, afi: afiOf(pfx), attrs: { origin: 0, asPath: [] },
      source: { id: LOCAL_SOURCE_ID, address: '', asn: this.opts.asn, routerId: this.opts.routerId, internal: false, rrClient: false, local: true },
    };
  }

  // ---------- routes out ----------

  private propagate(changes: BestChange[]): void {
    if (changes.length === 0) return;
    // peers first: they are sent the changes' own best routes, which a consumer announcing or withdrawing
    // from inside onBestChange would otherwise overtake
    for (const p of this.peerMap.values()) this.syncPeer(p, changes);
    // a deferred family's changes are not selected yet: onSelectionDone tells the consumer to take it whole
    const d = this.deferral;
    const selected = d?.active ? changes.filter((c) => !d.deferred(c.best?.afi ?? afiOf(c.prefix))) : changes;
    if (selected.length) this.opts.onBestChange?.(selected);
  }

  private target(p: PeerState): ExportTarget {
    const local = p.session.localAddress;
    const v4 = local && net.isIPv4(local) ? local : p.config.nextHop4;
    const v6 = local && net.isIPv6(local) && !local.startsWith('fe80') ? local : p.config.nextHop6;
    return {
      id: p.id, internal: p.internal, rrClient: p.internal && (p.config.rrClient ?? false), routerId: p.source?.routerId ?? '',
      policy: p.config.exportPolicy, localAs: this.opts.asn, localRouterId: this.opts.routerId,
      clusterId: this.clusterId, nextHop4: v4, nextHop6: v6, nextHop6LinkLocal: p.config.nextHop6LinkLocal,
    };
  }

  /** Brings one Established peer's Adj-RIB-Out in line with Loc-RIB (for `changes`, or everything of `only` or all families). */
  private syncPeer(p: PeerState, changes?: readonly BestChange[], only?: Afi): void {
    if (p.session.fsm.state !== 'Established' || !p.source) return;
    const families = p.session.fsm.negotiated!.families.map((f) => f.afi).filter((f) => (only === undefined || f === only) && !this.deferral?.deferred(f));
    const to = this.target(p);
    const announce = new Map<Afi, Map<string, PathAttributes>>();
    const withdraw = new Map<Afi, string[]>();
    const want = (prefix: string, best: Route | undefined): void => {
      if (!best && p.adjOut.size === 0) return; // nothing was sent to withdraw (a full table's withdrawal, at its source)
      const afi = best?.afi ?? afiOf(prefix);
      if (!families.includes(afi)) return;
      const attrs = best ? exportRoute(best, to) : undefined;
      const what = p.adjOut.set(prefix, afi, attrs);
      if (what === 'announce') { if (!announce.has(afi)) announce.set(afi, new Map()); announce.get(afi)!.set(prefix, attrs!); }
      if (what === 'withdraw') { if (!withdraw.has(afi)) withdraw.set(afi, []); withdraw.get(afi)!.push(prefix); }
    };
    // a change of the multipath set alone leaves the best path, all that peers are sent, as it was
    if (changes) for (const c of changes) { if (!c.multipathOnly) want(c.prefix, c.best); }
    else {
      for (const r of this.rib.bestIter()) want(r.prefix, r);
      // sent before, no longer in Loc-RIB
      for (const prefix of p.adjOut.prefixes(only)) if (!this.rib.best(prefix)) want(prefix, undefined);
    }
    for (const afi of families) {
      const a = announce.get(afi) ?? new Map<string, PathAttributes>();
      const w = withdraw.get(afi) ?? [];
      if (a.size === 0 && w.length === 0) continue;
      const self6 = to.nextHop6 && to.nextHop6LinkLocal ? { global: to.nextHop6, linkLocal: to.nextHop6LinkLocal } : undefined;
      for (const m of buildUpdates(afi, a, w, p.session.ctx, self6)) this.sendUpdate(p, m);
    }
  }

  private sendUpdate(p: PeerState, m: UpdateMessage): void {
    p.updatesOut++;
    p.session.send(m);
  }

  /** for tests and status: the FSM state of a peer */
  peerState(address: string): FsmState | undefined {
    return this.peerMap.get(unmap(address))?.session.fsm.state;
  }

  // ---------- hooks for the agent (lib/cni/agent): cheap per-tick views, soft reset, enable/disable ----------

  /** The peers' sessions without route counts: O(peers), unlike peers(), for work done on every tick. */
  peerSessions(): PeerSession[] {
    return [...this.peerMap.values()].map((p) => ({ address: p.id, state: p.session.fsm.state, since: p.since, gracefulRestart: p.grTimer !== undefined }));
  }

  /** The best route of one prefix (Loc-RIB lookup). */
  bestRoute(prefix: string): Route | undefined {
    return this.rib.best(normalizePrefix(prefix));
  }

  /** Soft reset: "in" asks the peer to send its routes again (RFC 2918), "out" sends ours again. */
  softReset(address: string, direction: 'in' | 'out'): boolean {
    const p = this.peerMap.get(unmap(address));
    if (!p || p.session.fsm.state !== 'Established') return false;
    if (direction === 'out') {
      p.adjOut.clear();
      this.syncPeer(p);
      for (const f of p.session.fsm.negotiated!.families) if (!this.deferral?.deferred(f.afi)) this.sendUpdate(p, endOfRib(f.afi));
    } else {
      for (const f of p.session.fsm.negotiated!.families) p.session.send({ type: 'route-refresh', afi: f.afi, safi: f.safi });
    }
    return true;
  }

  /** Administrative disable (Cease, the peer's routes go) and enable (the session starts again). */
  setPeerEnabled(address: string, enabled: boolean): boolean {
    const p = this.peerMap.get(unmap(address));
    if (!p) return false;
    if (!enabled) {
      this.stopPeer(p);
      this.deferral?.removePeer(p.id);
    }
    else if (p.session.fsm.state === 'Idle') {
      p.session = this.newSession(p.config);
      if (this.running) p.session.handle({ type: 'ManualStart' });
    }
    return true;
  }
}
