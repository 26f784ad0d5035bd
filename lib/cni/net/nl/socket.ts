// Request/response rtnetlink over a socket of our own (./route-socket.ts). We encode messages ourselves
// (see attrs.ts): we need attributes generic typings treat as opaque (veth peer, brport).
import os = require('node:os');
import { NLM_F, NLMSG } from './constants';
import { RouteSocket, takeQueued } from './route-socket';

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

/** what Rtnl needs of a netlink socket (./route-socket.ts; a fake in unit tests) */
export interface NlSocket {
  on(event: 'message', listener: (msg: Buffer) => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
  send(msg: Uint8Array | Uint8Array[], options: object, callback: (error?: Error) => void): void;
  /** a datagram already queued, without waiting (undefined: none yet); throws the socket's error */
  receiveNow?(): Buffer | undefined;
  /** emit 'message' as datagrams arrive, keeping the event loop alive, until unref */
  ref(): void;
  unref(): void;
  close(): void;
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
  constructor(private readonly sock: NlSocket = new RouteSocket(false)) {
    // unreferenced while idle, so a forgotten close() never keeps a plugin process alive
    this.sock.unref();
    this.sock.on('message', (buf) => this.receive(buf));
    this.sock.on('error', (err) => this.failAll(err));
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
      this.sock.send([hdr, body], {}, (err) => { if (err) this.settle(seq, err); });
      this.takeAnswers(seq);
      if (this.pending.size) this.sock.ref();
    });
  }

  /** The answers to `seq` already queued, read at once; whatever is still missing then comes through the loop. */
  private takeAnswers(seq: number): void {
    const sock = this.sock;
    if (!sock.receiveNow) return;
    try {
      takeQueued(() => sock.receiveNow!(), (datagram) => this.receive(datagram), () => this.pending.has(seq));
    } catch (e) {
      this.failAll(e as Error);
    }
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

/** An Rtnl whose dumps the kernel filters (RouteSocket strict), in the network namespace of the calling thread. */
export function openStrictRtnl(): Rtnl {
  return new Rtnl(new RouteSocket(true));
}
