// A route socket with NETLINK_GET_STRICT_CHK, for Rtnl: the kernel takes a dump request's header fields
// and attributes (table, protocol, type, output device) as filters and sends only what matches, where the
// `netlink` package's socket (no setsockopt) gets every route of the family. The socket comes from the
// native addon (native/src/nlstrict.c); it is read only while Rtnl has a request pending (ref), like the
// package's socket, which keeps the event loop alive only then.
import * as fs from 'node:fs';
import { native } from '../../../sys/native';
import { Rtnl, type NlSocket } from './socket';

/** more than a dump datagram holds (the kernel fills at most 32 KiB per recvmsg) */
const RECV_BYTES = 64 * 1024;

class StrictRouteSocket implements NlSocket {
  private readonly fd = native().rtnlStrictSocket();
  private stopWatch?: () => void;
  private onMessage: (msg: Buffer) => void = () => undefined;
  private onError: (err: Error) => void = () => undefined;

  on(event: 'message' | 'error', listener: ((msg: Buffer) => void) | ((err: Error) => void)): this {
    if (event === 'message') this.onMessage = listener as (msg: Buffer) => void;
    else this.onError = listener as (err: Error) => void;
    return this;
  }

  send(msg: Uint8Array | Uint8Array[], _options: object, callback: (error?: Error) => void): void {
    const data = Array.isArray(msg) ? Buffer.concat(msg) : Buffer.from(msg.buffer, msg.byteOffset, msg.byteLength);
    try {
      native().unixSend(this.fd, data, []);
    } catch (e) {
      callback(e as Error);
      return;
    }
    callback();
  }

  ref(): void {
    this.stopWatch ??= native().watchReadable(this.fd, (status) => this.readable(status));
  }

  unref(): void {
    this.stopWatch?.();
    this.stopWatch = undefined;
  }

  private readable(status: number): void {
    if (status < 0) { this.onError(new Error(`netlink socket poll failed (${status})`)); return; }
    // every datagram queued, while someone waits for one (a reply may unref us)
    while (this.stopWatch) {
      let r: { data: Buffer } | null;
      try {
        r = native().unixRecv(this.fd, RECV_BYTES);
      } catch (e) {
        this.onError(e as Error);
        return;
      }
      if (!r) return;
      this.onMessage(r.data);
    }
  }

  close(): void {
    this.unref();
    fs.closeSync(this.fd);
  }

  // Rtnl.ackWindow asks for these only for batched writes, which this socket is not for
  setRecvBufferSize(): never { throw new Error('not supported on the strict-check socket'); }
  getRecvBufferSize(): never { throw new Error('not supported on the strict-check socket'); }
}

/** An Rtnl whose dumps the kernel filters, in the network namespace of the calling thread. */
export function openStrictRtnl(): Rtnl {
  return new Rtnl(new StrictRouteSocket());
}
