// The per-connection BGP finite state machine of RFC 4271 §8, written as a pure machine:
// events and the current time go in, actions come out. No sockets, no setTimeout: the session layer
// (session.ts) performs the actions and asks nextDeadline() when to call expire(); tests use a fake clock.
import { CEASE_SUB, ERR, OPEN_SUB } from './codec/constants';
import { BgpError } from './codec/errors';
import type { Capabilities, Family } from './codec/capabilities';
import type { BgpMessage, NotificationMessage, RouteRefreshMessage } from './codec/message';
import type { OpenMessage } from './codec/open';
import type { UpdateMessage } from './codec/update';

export type FsmState = 'Idle' | 'Connect' | 'Active' | 'OpenSent' | 'OpenConfirm' | 'Established';
export type TimerName = 'connectRetry' | 'hold' | 'keepalive' | 'idleHold';

export interface FsmConfig {
  localAs: number;
  routerId: string;
  /** expected peer AS */
  peerAs: number;
  /** proposed hold time in seconds (RFC 4271 §10 suggests 90) */
  holdTime: number;
  /** seconds between connection attempts (§10 suggests 120) */
  connectRetryTime: number;
  /** seconds to wait in Idle after an error before restarting automatically (§8.1.1 IdleHoldTimer) */
  idleHoldTime: number;
  /** never initiate TCP, only accept (§8.1.1 PassiveTcpEstablishment) */
  passive: boolean;
  capabilities: Capabilities;
}

export type FsmEvent =
  | { type: 'ManualStart' }
  | { type: 'ManualStop' }
  /** §8.1.2 Event 8: the speaker stops the session itself (max-prefix, RFC 4486): Cease `subcode`, no restart */
  | { type: 'AutomaticStop'; subcode: number; data?: Buffer }
  /** RFC 4724 §4: close TCP without a NOTIFICATION, so the peer keeps our routes while we restart */
  | { type: 'GracefulStop' }
  | { type: 'AutomaticStart' }
  /**
   * §8.1.2 Event 5 (AutomaticStart_with_PassiveTcpEstablishment): a session waiting out its idle hold
   * starts by listening only, as the peer's connection is at hand. A stopped session stays Idle.
   */
  | { type: 'AutomaticStartPassive' }
  /**
   * RFC 4724 §4.2: the peer connected again while its session (with graceful restart) is Established: it
   * restarted before we saw its connection go. The session ends as a lost connection would, without a
   * NOTIFICATION, so the peer's routes stay (stale) for the new connection.
   */
  | { type: 'PeerReconnected' }
  /** our outgoing connection completed (§8.1.3 Event 16) */
  | { type: 'TcpConnectionSucceeds' }
  /** an incoming connection was accepted (§8.1.3 Event 17) */
  | { type: 'TcpConnectionConfirmed' }
  | { type: 'TcpConnectionFails' }
  | { type: 'Message'; message: BgpMessage }
  /** the decoder rejected a message: its BgpError names the NOTIFICATION to send */
  | { type: 'MessageError'; error: BgpError }
  /** §6.8: collision detection chose to drop this connection (Event 23) */
  | { type: 'OpenCollisionDump' };

export interface Negotiated {
  peerAs: number;
  peerRouterId: string;
  /** seconds, 0 = no keepalives and no hold timer */
  holdTime: number;
  keepaliveTime: number;
  /** RFC 6793: both sides sent the 4-octet AS capability */
  as4: boolean;
  /** RFC 4760 §8: families both sides announced (IPv4 unicast alone when neither sent any) */
  families: Family[];
  routeRefresh: boolean;
  /** RFC 8538 §2: both sides set the N bit: a NOTIFICATION other than Hard Reset is a graceful restart */
  notificationRestart: boolean;
  peerOpen: OpenMessage;
}

/** RFC 8538 §5: Cease subcodes that MUST (or are RECOMMENDED to) go as a Hard Reset once the N bit is agreed */
const HARD_RESET_SUBCODES: readonly number[] = [CEASE_SUB.MAX_PREFIXES, CEASE_SUB.ADMIN_SHUTDOWN, CEASE_SUB.PEER_DECONFIGURED, CEASE_SUB.ADMIN_RESET];

/** RFC 8538 §3: a Hard Reset is Cease subcode 9; it always ends graceful restart */
export function isHardReset(n: NotificationMessage): boolean {
  return n.code === ERR.CEASE && n.subcode === CEASE_SUB.HARD_RESET;
}

export type FsmAction =
  | { type: 'connect' }
  | { type: 'disconnect' }
  | { type: 'send'; message: BgpMessage }
  /** the peer's OPEN was accepted (OpenConfirm): its identifier is known, collision detection can run */
  | { type: 'open'; negotiated: Negotiated }
  | { type: 'established'; negotiated: Negotiated }
  /** the session left Established (or a connection attempt ended): routes learnt from it are affected */
  | { type: 'down'; from: FsmState; reason: string; notification?: NotificationMessage; negotiated?: Negotiated }
  | { type: 'update'; message: UpdateMessage }
  | { type: 'route-refresh'; message: RouteRefreshMessage };

/** RFC 4271 §8.2.2: the hold timer while waiting for the peer's OPEN, "a large value (4 minutes)" */
const OPEN_HOLD_TIME = 240;

export class Fsm {
  state: FsmState = 'Idle';
  negotiated?: Negotiated;
  connectRetryCounter = 0;
  /** absolute ms deadlines of running timers */
  private readonly timers = new Map<TimerName, number>();
  private out: FsmAction[] = [];
  private now = 0;
  private autoRestart = false;

  constructor(readonly config: FsmConfig) {}

  nextDeadline(): number | undefined {
    let min: number | undefined;
    for (const d of this.timers.values()) if (min === undefined || d < min) min = d;
    return min;
  }

  timerRunning(t: TimerName): boolean { return this.timers.has(t); }

  /** Fires every timer due at `now`, in deadline order. */
  expire(now: number): FsmAction[] {
    const actions: FsmAction[] = [];
    for (;;) {
      let due: TimerName | undefined;
      let at = Infinity;
      for (const [name, d] of this.timers) if (d <= now && d < at) { due = name; at = d; }
      if (!due) return actions;
      this.timers.delete(due);
      actions.push(...this.run(now, () => this.onTimer(due!)));
    }
  }

  handle(event: FsmEvent, now: number): FsmAction[] {
    return this.run(now, () => this.onEvent(event));
  }

  private run(now: number, fn: () => void): FsmAction[] {
    this.now = now;
    this.out = [];
    fn();
    return this.out;
  }

  // ---------- helpers ----------

  private emit(a: FsmAction): void { this.out.push(a); }
  private start(t: TimerName, seconds: number): void {
    if (seconds > 0) this.timers.set(t, this.now + seconds * 1000);
    else this.timers.delete(t);
  }
  private stop(t: TimerName): void { this.timers.delete(t); }

  private sendOpen(): void {
    const c = this.config;
    this.emit({ type: 'send', message: { type: 'open', version: 4, asn: c.localAs, holdTime: c.holdTime, routerId: c.routerId, capabilities: c.capabilities } });
  }

  /** A Cease, wrapped in a Hard Reset (RFC 8538 §3: its data is the subcode, then the data) where §5 says so. */
  private cease(subcode: number, data: Buffer = Buffer.alloc(0)): NotificationMessage {
    if (this.negotiated?.notificationRestart && HARD_RESET_SUBCODES.includes(subcode)) {
      return this.notify(ERR.CEASE, CEASE_SUB.HARD_RESET, Buffer.concat([Buffer.from([subcode]), data]));
    }
    return this.notify(ERR.CEASE, subcode, data);
  }

  private notify(code: number, subcode: number, data: Buffer = Buffer.alloc(0)): NotificationMessage {
    const n: NotificationMessage = { type: 'notification', code, subcode, data };
    this.emit({ type: 'send', message: n });
    return n;
  }

  /** Back to Idle: drop the connection and every timer; restart later unless stopped by hand. */
  private toIdle(reason: string, notification?: NotificationMessage, restart = true): void {
    const from = this.state;
    const negotiated = this.negotiated;
    this.emit({ type: 'disconnect' });
    for (const t of ['connectRetry', 'hold', 'keepalive'] as const) this.stop(t);
    this.state = 'Idle';
    this.negotiated = undefined;
    if (from !== 'Idle') this.emit({ type: 'down', from, reason, notification, negotiated });
    if (restart && this.autoRestart) {
      this.connectRetryCounter++;
      this.start('idleHold', this.config.idleHoldTime);
    }
  }

  private connected(): void {
    this.stop('connectRetry');
    this.sendOpen();
    this.start('hold', OPEN_HOLD_TIME);
    this.state = 'OpenSent';
  }

  private startSession(passive = this.config.passive): void {
    this.stop('idleHold');
    this.start('connectRetry', this.config.connectRetryTime);
    if (passive) this.state = 'Active';
    else {
      this.state = 'Connect';
      this.emit({ type: 'connect' });
    }
  }

  // ---------- events ----------

  private onTimer(t: TimerName): void {
    switch (t) {
      case 'idleHold':
        if (this.state === 'Idle') this.startSession();
        return;
      case 'connectRetry':
        if (this.state === 'Connect') {
          // §8.2.2 Connect, Event 9: drop the attempt and try again
          this.emit({ type: 'disconnect' });
          this.start('connectRetry', this.config.connectRetryTime);
          this.emit({ type: 'connect' });
        } else if (this.state === 'Active') {
          this.start('connectRetry', this.config.connectRetryTime);
          if (!this.config.passive) { this.state = 'Connect'; this.emit({ type: 'connect' }); }
        } else if (this.state !== 'Idle') {
          this.toIdle('connect retry timer expired', this.notify(ERR.FSM, 0));
        }
        return;
      case 'hold':
        if (this.state === 'OpenSent' || this.state === 'OpenConfirm' || this.state === 'Established') {
          this.toIdle('hold timer expired', this.notify(ERR.HOLD_TIMER, 0));
        }
        return;
      case 'keepalive':
        if ((this.state === 'OpenConfirm' || this.state === 'Established') && this.negotiated) {
          this.emit({ type: 'send', message: { type: 'keepalive' } });
          this.start('keepalive', this.negotiated.keepaliveTime);
        }
        return;
    }
  }

  private onEvent(e: FsmEvent): void {
    switch (e.type) {
      case 'ManualStart':
      case 'AutomaticStart':
        this.autoRestart = true;
        if (this.state === 'Idle') { this.connectRetryCounter = 0; this.startSession(); }
        return;
      case 'PeerReconnected':
        if (this.state === 'Established') this.toIdle('the peer connected again: a restart (RFC 4724 §4.2)');
        return;
      case 'AutomaticStartPassive':
        if (this.state === 'Idle' && this.autoRestart) { this.connectRetryCounter = 0; this.startSession(true); }
        return;
      case 'ManualStop': {
        this.autoRestart = false;
        this.stop('idleHold');
        const n = this.state === 'Idle' || this.state === 'Connect' || this.state === 'Active'
          ? undefined : this.cease(CEASE_SUB.ADMIN_SHUTDOWN);
        this.connectRetryCounter = 0;
        if (this.state !== 'Idle') this.toIdle('administrative stop', n, false);
        return;
      }
      case 'AutomaticStop': {
        this.autoRestart = false;
        this.stop('idleHold');
        const n = this.state === 'OpenSent' || this.state === 'OpenConfirm' || this.state === 'Established' ? this.cease(e.subcode, e.data) : undefined;
        if (this.state !== 'Idle') this.toIdle(`stopped: cease ${e.subcode}`, n, false);
        return;
      }
      case 'GracefulStop':
        this.autoRestart = false;
        this.stop('idleHold');
        if (this.state !== 'Idle') this.toIdle('graceful stop (restart)', undefined, false);
        return;
      case 'TcpConnectionSucceeds':
      case 'TcpConnectionConfirmed':
        if (this.state === 'Connect' || this.state === 'Active') this.connected();
        else if (this.state === 'Idle') this.emit({ type: 'disconnect' }); // §8.2.2 Idle: refuse
        return;
      case 'TcpConnectionFails':
        if (this.state === 'Connect') {
          // §8.2.2 Connect, Event 18: wait for the retry timer in Active
          this.start('connectRetry', this.config.connectRetryTime);
          this.state = 'Active';
        } else if (this.state === 'OpenSent') {
          // §8.2.2 OpenSent, Event 18: close and listen again in Active
          this.stop('hold');
          this.start('connectRetry', this.config.connectRetryTime);
          this.state = 'Active';
        } else if (this.state !== 'Idle' && this.state !== 'Active') this.toIdle('connection closed');
        return;
      case 'OpenCollisionDump':
        if (this.state === 'OpenSent' || this.state === 'OpenConfirm' || this.state === 'Established') {
          this.toIdle('connection collision', this.notify(ERR.CEASE, CEASE_SUB.COLLISION_RESOLUTION), false);
        }
        return;
      case 'MessageError':
        if (this.state === 'Idle') return;
        this.toIdle(e.error.message, this.notify(e.error.code, e.error.subcode, e.error.data));
        return;
      case 'Message':
        this.onMessage(e.message);
        return;
    }
  }

  private onMessage(m: BgpMessage): void {
    const s = this.state;
    if (s === 'Idle') return;
    if (m.type === 'notification') {
      // §6.4: a NOTIFICATION closes the connection, no answer
      this.toIdle(`peer sent NOTIFICATION ${m.code}/${m.subcode}`, m);
      return;
    }
    if (s === 'Connect' || s === 'Active') {
      this.toIdle(`unexpected ${m.type} before OPEN`);
      return;
    }
    if (s === 'OpenSent') {
      if (m.type === 'open') return this.onOpen(m);
      // RFC 6608 §4: FSM error subcode 1 = unexpected message in OpenSent
      this.toIdle(`unexpected ${m.type} in OpenSent`, this.notify(ERR.FSM, 1));
      return;
    }
    if (s === 'OpenConfirm') {
      if (m.type === 'keepalive') {
        this.restartHold();
        this.state = 'Established';
        this.emit({ type: 'established', negotiated: this.negotiated! });
        return;
      }
      this.toIdle(`unexpected ${m.type} in OpenConfirm`, this.notify(ERR.FSM, 2));
      return;
    }
    // Established
    if (m.type === 'keepalive') return this.restartHold();
    if (m.type === 'update') { this.restartHold(); this.emit({ type: 'update', message: m }); return; }
    if (m.type === 'route-refresh') { this.emit({ type: 'route-refresh', message: m }); return; }
    this.toIdle('OPEN in Established', this.notify(ERR.FSM, 3));
  }

  private restartHold(): void {
    if (this.negotiated && this.negotiated.holdTime > 0) this.start('hold', this.negotiated.holdTime);
  }

  /** §6.2 OPEN checks that need configuration, then hold time negotiation (§4.2). */
  private onOpen(o: OpenMessage): void {
    const c = this.config;
    if (o.asn !== c.peerAs) {
      const d = Buffer.alloc(2);
      d.writeUInt16BE(o.asn & 0xffff);
      this.toIdle(`peer AS ${o.asn}, expected ${c.peerAs}`, this.notify(ERR.OPEN, OPEN_SUB.BAD_PEER_AS, d));
      return;
    }
    // RFC 6286 §2.1: identifiers must differ within an AS; across ASes the same id is allowed
    if (o.routerId === c.routerId && o.asn === c.localAs) {
      this.toIdle(`peer uses our BGP identifier ${o.routerId}`, this.notify(ERR.OPEN, OPEN_SUB.BAD_BGP_ID));
      return;
    }
    const holdTime = Math.min(c.holdTime, o.holdTime);
    const mine = c.capabilities.multiprotocol;
    const theirs = o.capabilities.multiprotocol;
    const families = mine.length === 0 && theirs.length === 0
      ? [{ afi: 1 as const, safi: 1 }]
      : mine.filter((f) => theirs.some((g) => g.afi === f.afi && g.safi === f.safi));
    this.negotiated = {
      peerAs: o.asn, peerRouterId: o.routerId, holdTime, keepaliveTime: Math.floor(holdTime / 3),
      as4: c.capabilities.fourOctetAs !== undefined && o.capabilities.fourOctetAs !== undefined,
      families, routeRefresh: c.capabilities.routeRefresh && o.capabilities.routeRefresh, peerOpen: o,
      notificationRestart: c.capabilities.gracefulRestart?.notification === true && o.capabilities.gracefulRestart?.notification === true,
    };
    this.stop('connectRetry');
    this.emit({ type: 'send', message: { type: 'keepalive' } });
    if (holdTime > 0) {
      this.start('keepalive', this.negotiated.keepaliveTime);
      this.start('hold', holdTime);
    } else {
      this.stop('hold');
      this.stop('keepalive');
    }
    this.state = 'OpenConfirm';
    this.emit({ type: 'open', negotiated: this.negotiated });
  }
}

/**
 * RFC 4271 §6.8 collision detection, once the peer's identifier is known: the connection opened by the
 * speaker with the higher BGP identifier survives. Returns which connection to keep.
 */
export function resolveCollision(localId: string, remoteId: string): 'outgoing' | 'incoming' {
  const n = (ip: string): number => ip.split('.').reduce((a, b) => a * 256 + Number(b), 0);
  return n(localId) > n(remoteId) ? 'outgoing' : 'incoming';
}
