// Wires one Fsm to one TCP connection: frames and decodes incoming bytes, encodes outgoing messages,
// runs the FSM's timers on the real clock. Knows nothing about routes.
import * as net from 'node:net';
import { BgpError } from './codec/errors';
import { Framer } from './codec/framer';
import { decodeMessage, encodeMessage, type BgpMessage } from './codec/message';
import type { CodecContext } from './codec/attributes';
import { Fsm, type FsmAction, type FsmConfig, type FsmEvent } from './fsm';

/** the longest a session handles received messages before the event loop gets a turn */
const FRAME_BUDGET_MS = 5;

export type Direction = 'outgoing' | 'incoming';

export interface SessionHooks {
  /** every action except connect/disconnect/send, which the session performs itself */
  onAction(session: Session, action: FsmAction): void;
  /** the consumer of routes is behind: a promise to wait on before handling more messages, else undefined */
  backpressure?(): Promise<void> | undefined;
}

const DEBUG = process.env.BERTH_BGP_DEBUG === '1';
const now = (): number => Number(process.hrtime.bigint() / 1_000_000n);

export class Session {
  readonly fsm: Fsm;
  socket?: net.Socket;
  direction: Direction;
  private framer = new Framer();
  /** received frames not handled yet (the socket is paused meanwhile) */
  private backlog?: Buffer[];
  private timer?: NodeJS.Timeout;
  private closed = false;

  constructor(
    config: FsmConfig,
    private readonly remote: { address: string; port: number; localAddress?: string },
    private readonly hooks: SessionHooks,
    /** the peer is external: some attributes are discarded on receipt (RFC 7606) */
    private readonly external: boolean,
  ) {
    this.fsm = new Fsm(config);
    this.direction = 'outgoing';
  }

  get ctx(): CodecContext {
    return { as4: this.fsm.negotiated?.as4 ?? false, external: this.external };
  }

  get localAddress(): string | undefined { return this.socket?.localAddress?.replace(/^::ffff:/, ''); }

  /** Feeds an event to the FSM and performs what it asks for. */
  handle(e: FsmEvent): void {
    if (this.closed) return;
    this.perform(this.fsm.handle(e, now()));
  }

  /** Hands an accepted connection to this session (RFC 4271 Event 17). */
  accept(socket: net.Socket): void {
    this.detach();
    this.direction = 'incoming';
    this.attach(socket);
    this.handle({ type: 'TcpConnectionConfirmed' });
  }

  send(m: BgpMessage): void {
    if (!this.socket || this.socket.destroyed) return;
    this.socket.write(encodeMessage(m, this.ctx));
  }

  /** Stops for good: no timers, no socket. */
  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.detach();
  }

  private perform(actions: FsmAction[]): void {
    for (const a of actions) {
      if (DEBUG) console.error(`bgp ${this.remote.address}:${this.remote.port} ${this.direction} ${this.fsm.state}: ${a.type}${a.type === 'send' ? ` ${a.message.type}` : a.type === 'down' ? ` ${a.reason}` : ''}`);
      if (a.type === 'connect') this.connect();
      else if (a.type === 'disconnect') this.detach();
      else if (a.type === 'send') this.send(a.message);
      else this.hooks.onAction(this, a);
    }
    this.schedule();
  }

  private schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const d = this.fsm.nextDeadline();
    if (d === undefined || this.closed) return;
    this.timer = setTimeout(() => { this.timer = undefined; this.perform(this.fsm.expire(now())); }, Math.max(0, d - now()));
  }

  private connect(): void {
    this.detach();
    this.direction = 'outgoing';
    const s = net.connect({ host: this.remote.address, port: this.remote.port, localAddress: this.remote.localAddress });
    this.attach(s);
    s.once('connect', () => { if (this.socket === s) this.handle({ type: 'TcpConnectionSucceeds' }); });
  }

  private attach(s: net.Socket): void {
    this.socket = s;
    this.framer = new Framer();
    this.backlog = undefined;
    s.setNoDelay(true);
    s.on('data', (chunk: Buffer) => {
      if (this.socket !== s) return;
      let frames: Buffer[];
      try { frames = this.framer.push(chunk); } catch (e) {
        if (e instanceof BgpError) return this.handle({ type: 'MessageError', error: e });
        throw e;
      }
      if (frames.length === 0) return;
      // libuv reads a busy socket up to 32 times per loop turn (2 MB, a whole table): paused until these
      // frames are done, so the FIB's netlink replies, our keepalives, other peers and the agent's lease
      // timer get a turn during a table load
      s.pause();
      // a chunk that still arrives while paused queues behind the frames being handled: order is kept
      if (this.backlog) { this.backlog.push(...frames); return; }
      this.backlog = frames;
      this.drain(s, 0);
    });
    s.on('error', () => { /* 'close' follows and reports the failure */ });
    s.on('close', () => { if (this.socket === s) { this.socket = undefined; this.handle({ type: 'TcpConnectionFails' }); } });
  }

  /**
   * Handles frames from `from` on, for at most FRAME_BUDGET_MS at a time (a chunk of /32 UPDATEs is tens
   * of thousands of prefixes): the rest waits for the next loop turn, and the socket resumes when all are done.
   */
  private drain(s: net.Socket, from: number): void {
    const frames = this.backlog;
    if (this.socket !== s || !frames) return;
    const end = Date.now() + FRAME_BUDGET_MS;
    for (let i = from; i < frames.length; i++) {
      if (this.socket !== s) return; // an earlier message closed the connection
      if (i > from && Date.now() >= end) { setImmediate(() => this.drain(s, i)); return; }
      // the socket stays paused while the consumer catches up: TCP holds the peer back, not our memory
      const wait = this.hooks.backpressure?.();
      if (wait) { void wait.then(() => this.drain(s, i)); return; }
      let m: BgpMessage;
      try { m = decodeMessage(frames[i], this.ctx); } catch (e) {
        this.backlog = undefined;
        if (e instanceof BgpError) return this.handle({ type: 'MessageError', error: e });
        throw e;
      }
      this.handle({ type: 'Message', message: m });
    }
    this.backlog = undefined;
    setImmediate(() => { if (this.socket === s) s.resume(); });
  }

  /** Drops the socket without telling the FSM (it asked for this, or a new socket replaces it). */
  private detach(): void {
    const s = this.socket;
    this.socket = undefined;
    if (!s) return;
    // a connection still being made is dropped at once: left to complete, the peer would see a second
    // connection beside our session, which RFC 4724 §4.2 makes it treat as our restart (stale routes dropped)
    if (s.connecting) { s.destroy(); return; }
    // let a NOTIFICATION already written go out before the connection closes
    s.end();
    setTimeout(() => s.destroy(), 1000).unref();
  }
}
