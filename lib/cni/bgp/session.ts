// Wires one Fsm to one TCP connection: frames and decodes incoming bytes, encodes outgoing messages,
// runs the FSM's timers on the real clock. Knows nothing about routes.
import * as net from 'node:net';
import { BgpError } from './codec/errors';
import { Framer } from './codec/framer';
import { decodeMessage, encodeMessage, type BgpMessage } from './codec/message';
import type { CodecContext } from './codec/attributes';
import { Fsm, type FsmAction, type FsmConfig, type FsmEvent } from './fsm';

export type Direction = 'outgoing' | 'incoming';

export interface SessionHooks {
  /** every action except connect/disconnect/send, which the session performs itself */
  onAction(session: Session, action: FsmAction): void;
}

const DEBUG = process.env.BERTH_BGP_DEBUG === '1';
const now = (): number => Number(process.hrtime.bigint() / 1_000_000n);

export class Session {
  readonly fsm: Fsm;
  socket?: net.Socket;
  direction: Direction;
  private framer = new Framer();
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
    s.setNoDelay(true);
    s.on('data', (chunk: Buffer) => {
      if (this.socket !== s) return;
      let frames: Buffer[];
      try { frames = this.framer.push(chunk); } catch (e) {
        if (e instanceof BgpError) return this.handle({ type: 'MessageError', error: e });
        throw e;
      }
      for (const f of frames) {
        if (this.socket !== s) return; // an earlier message closed the connection
        let m: BgpMessage;
        try { m = decodeMessage(f, this.ctx); } catch (e) {
          if (e instanceof BgpError) return this.handle({ type: 'MessageError', error: e });
          throw e;
        }
        this.handle({ type: 'Message', message: m });
      }
      // libuv reads a busy socket up to 32 times per loop turn (2 MB, a whole table): pause after each
      // chunk so the FIB's netlink replies, our keepalives and other peers get a turn during a table load
      if (frames.length && !s.isPaused()) {
        s.pause();
        setImmediate(() => { if (this.socket === s) s.resume(); });
      }
    });
    s.on('error', () => { /* 'close' follows and reports the failure */ });
    s.on('close', () => { if (this.socket === s) { this.socket = undefined; this.handle({ type: 'TcpConnectionFails' }); } });
  }

  /** Drops the socket without telling the FSM (it asked for this, or a new socket replaces it). */
  private detach(): void {
    const s = this.socket;
    this.socket = undefined;
    if (!s) return;
    // let a NOTIFICATION already written go out before the connection closes
    s.end();
    setTimeout(() => s.destroy(), 1000).unref();
  }
}
