// A request/response rtnetlink socket over the `netlink` package's RawNetlinkSocket.
// We encode messages ourselves (see attrs.ts): requiring only netlink/dist/raw keeps a plugin's
// start-up small, and we need attributes the high-level typings treat as opaque (veth peer, brport).
import os = require('node:os');
import type { RawNetlinkSocket } from 'netlink/dist/raw';
import { NETLINK_ROUTE, NLM_F, NLMSG } from './constants';

export interface NlMessage { type: number; flags: number; body: Buffer }
export interface NlRequest { op: string; type: number; flags: number; body: Buffer }

const errnoNames = new Map<number, string>(Object.entries(os.constants.errno).map(([k, v]) => [v as number, k]));

/** A kernel refusal: errno name as `code`, as Node's own errors do. */
export class NetlinkError extends Error {
  readonly code: string;
  constructor(readonly op: string, readonly errno: number) {
    const code = errnoNames.get(errno) ?? `errno ${errno}`;
    super(`netlink ${op}: ${code}`);
    this.name = 'NetlinkError';
    this.code = code;
  }
}

/** what Rtnl needs of a netlink socket: the `netlink` package's RawNetlinkSocket, or ./strict-socket.ts */
export interface NlSocket {
  on(event: 'message', listener: (msg: Buffer) => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
  send(msg: Uint8Array | Uint8Array[], options: object, callback: (error?: Error) => void): void;
  ref(): void;
  unref(): void;
  close(): void;
  setRecvBufferSize(size: number): unknown;
  getRecvBufferSize(): number;
}

/** a dump's consumer: each reply as it arrives (body is a view of the received datagram) */
export type NlSink = (type: number, flags: number, body: Buffer) => void;

interface Pending {
  op: string; dump: boolean; msgs: NlMessage[]; resolve(m: NlMessage[]): void; reject(e: Error): void;
  /** a streamed dump: replies go here rather than into msgs */
  sink?: NlSink;
  /** the sink threw: the rest of the dump is read and dropped, then the request fails with this */
  failed?: Error;
}


export class Rtnl {
  private seq = Math.floor(Math.random() * 0x7fffffff);
  private readonly pending = new Map<number, Pending>();

  /** Binds to the network namespace of the calling thread (see netns.ts openRtnl). */
  constructor(private readonly sock: NlSocket = Rtnl.rawSocket()) {
    // unreferenced while idle, so a forgotten close() never keeps a plugin process alive
    this.sock.unref();
    this.sock.on('message', (buf) => this.receive(buf));
    this.sock.on('error', (err) => this.failAll(err));
  }

  private static rawSocket(): RawNetlinkSocket {
    const { RawNetlinkSocket: Raw } = require('netlink/dist/raw') as typeof import('netlink/dist/raw');
    return new Raw(NETLINK_ROUTE);
  }

  /** Sends one message; resolves with the replies (the dump's parts, or a GET's answer), [] for a plain ACK. */
  request(op: string, type: number, flags: number, body: Buffer): Promise<NlMessage[]> {
    return this.send(op, type, flags, body);
  }

  /**
   * A dump (NLM_F_DUMP) whose replies go to `sink` as each datagram arrives instead of into one array, so
   * a whole table (a million routes) is never held at once. Resolves at NLMSG_DONE; if the sink throws,
   * the rest of the dump is drained and the promise rejects with that error.
   */
  async dump(op: string, type: number, body: Buffer, sink: NlSink): Promise<void> {
    await this.send(op, type, NLM_F.DUMP, body, sink);
  }

  private send(op: string, type: number, flags: number, body: Buffer, sink?: NlSink): Promise<NlMessage[]> {
    const seq = (this.seq = (this.seq + 1) & 0x7fffffff);
    const dump = (flags & NLM_F.DUMP) === NLM_F.DUMP;
    const hdr = Buffer.alloc(16);
    hdr.writeUInt32LE(16 + body.length, 0);
    hdr.writeUInt16LE(type, 4);
    hdr.writeUInt16LE(flags | NLM_F.REQUEST | (dump ? 0 : NLM_F.ACK), 6);
    hdr.writeUInt32LE(seq, 8);
    return new Promise<NlMessage[]>((resolve, reject) => {
      this.pending.set(seq, { op, dump, msgs: [], resolve, reject, sink });
      this.sock.ref();
      this.sock.send([hdr, body], {}, (err) => { if (err) this.settle(seq, err); });
    });
  }

  /**
   * Sends several messages in one sendmsg (one buffer, one nlmsghdr and sequence number each, all with
   * NLM_F_ACK) and resolves once every one is answered: per message its replies, or the kernel's error for
   * it. Never rejects; the caller maps results back by index. Keep at most ackWindow() messages unanswered.
   */
  requestMany(reqs: readonly NlRequest[]): Promise<(NlMessage[] | Error)[]> {
    const parts: Buffer[] = [];
    const results: Promise<NlMessage[] | Error>[] = [];
    const seqs: number[] = [];
    for (const r of reqs) {
      const seq = (this.seq = (this.seq + 1) & 0x7fffffff);
      const hdr = Buffer.alloc(16);
      hdr.writeUInt32LE(16 + r.body.length, 0);
      hdr.writeUInt16LE(r.type, 4);
      hdr.writeUInt16LE(r.flags | NLM_F.REQUEST | NLM_F.ACK, 6);
      hdr.writeUInt32LE(seq, 8);
      // bodies are padded so the next header starts 4-aligned, as the kernel's NLMSG_ALIGN expects
      parts.push(hdr, r.body, Buffer.alloc(((r.body.length + 3) & ~3) - r.body.length));
      seqs.push(seq);
      results.push(new Promise<NlMessage[]>((resolve, reject) => {
        this.pending.set(seq, { op: r.op, dump: false, msgs: [], resolve, reject });
      }).catch((e: Error) => e));
    }
    if (reqs.length) {
      this.sock.ref();
      this.sock.send(Buffer.concat(parts), {}, (err) => { if (err) for (const s of seqs) this.settle(s, err); });
    }
    return Promise.all(results);
  }

  /**
   * requestMany over any number of messages: `chunk` per sendmsg, at most ackWindow() unanswered.
   * One result per request, in order (its replies or its error); never rejects.
   */
  async requestBatch(reqs: readonly NlRequest[], chunk = 256): Promise<(NlMessage[] | Error)[]> {
    const window = this.ackWindow();
    chunk = Math.max(1, Math.min(chunk, window));
    const out: (NlMessage[] | Error)[] = new Array(reqs.length);
    const inflight = new Set<Promise<void>>();
    for (let i = 0; i < reqs.length; i += chunk) {
      const at = i;
      const p = this.requestMany(reqs.slice(at, at + chunk)).then((res) => { res.forEach((r, k) => { out[at + k] = r; }); });
      const tracked: Promise<void> = p.finally(() => inflight.delete(tracked));
      inflight.add(tracked);
      while ((inflight.size + 1) * chunk > window && inflight.size) await Promise.race(inflight);
    }
    await Promise.all(inflight);
    return out;
  }

  private window?: number;

  /**
   * How many messages a requestMany caller may have unanswered. Each queued ACK costs its skb's truesize
   * (about 1 KiB here, not its 36 bytes) of the receive buffer, and an overflowing buffer drops ACKs (the
   * netlink package's reader then aborts the process), so this raises the buffer once (to 4 MiB) and allows
   * one message per 2 KiB of it.
   */
  ackWindow(): number {
    if (this.window === undefined) {
      try { this.sock.setRecvBufferSize(4 << 20); } catch { /* keep the default */ }
      let size = 212992;
      try { size = this.sock.getRecvBufferSize(); } catch { /* assume the default */ }
      this.window = Math.max(16, Math.floor(size / 2048));
    }
    return this.window;
  }

  close(): void {
    this.failAll(new Error('netlink socket closed'));
    this.sock.close();
  }

  private receive(buf: Buffer): void {
    let off = 0;
    while (off + 16 <= buf.length) {
      const len = buf.readUInt32LE(off);
      const type = buf.readUInt16LE(off + 4);
      const flags = buf.readUInt16LE(off + 6);
      const seq = buf.readUInt32LE(off + 8);
      const body = buf.subarray(off + 16, off + len);
      off += (len + 3) & ~3;
      if (len < 16) break;
      const p = this.pending.get(seq);
      if (!p) continue;
      if (type === NLMSG.ERROR) {
        const errno = -body.readInt32LE(0);
        this.settle(seq, errno === 0 ? undefined : new NetlinkError(p.op, errno));
      } else if (type === NLMSG.DONE) {
        this.settle(seq, p.failed);
      } else if (p.sink) {
        if (!p.failed) {
          try { p.sink(type, flags, body); } catch (e) { p.failed = e as Error; }
        }
      } else {
        p.msgs.push({ type, flags, body });
      }
    }
  }

  private settle(seq: number, err?: Error): void {
    const p = this.pending.get(seq);
    if (!p) return;
    this.pending.delete(seq);
    if (this.pending.size === 0) this.sock.unref();
    if (err) p.reject(err);
    else p.resolve(p.msgs);
  }

  private failAll(err: Error): void {
    for (const seq of [...this.pending.keys()]) this.settle(seq, err);
  }
}
