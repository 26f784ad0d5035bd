// Rtnl's socket (native/src/nlsocket.c): a NETLINK_ROUTE fd of our own, so Rtnl can take the kernel's
// answer right after sending (receiveNow) instead of waiting a turn of the event loop for the socket to
// poll readable. It is watched only while Rtnl waits for an answer that was not there yet (ref), which
// also keeps the event loop alive only then.
// The strict variant sets NETLINK_GET_STRICT_CHK: the kernel takes a dump request's header fields and
// attributes (table, protocol, type, output device) as filters and sends only what matches, where a plain
// socket gets every route of the family.
import fs = require('node:fs');
import { native } from '../../../sys/native';
import type { NlSocket } from './socket';

/** more than a dump datagram holds (the kernel fills at most 32 KiB per recvmsg) */
const RECV_BYTES = 64 * 1024;
/**
 * Datagrams read at a time, right after a send and per turn of the event loop: the kernel answers an
 * rtnetlink request inside sendmsg, and queues a dump's next part inside the recvmsg that takes the one
 * before, so a request's answer (and a small dump) is read at once; a huge dump leaves the loop room
 * between slices of this many (as the `netlink` package's socket did).
 */
export const DATAGRAMS_PER_TURN = 32;

/** Hands at most DATAGRAMS_PER_TURN queued datagrams to `deliver` while `wanted()`; throws what receiving throws. */
export function takeQueued(receive: () => Buffer | undefined, deliver: (datagram: Buffer) => void, wanted: () => boolean): void {
  for (let n = 0; n < DATAGRAMS_PER_TURN && wanted(); n++) {
    const datagram = receive();
    if (!datagram) return;
    deliver(datagram);
  }
}

export class RouteSocket implements NlSocket {
  private readonly fd: number;
  private stopWatch?: () => void;
  private onMessage: (msg: Buffer) => void = () => undefined;
  private onError: (err: Error) => void = () => undefined;

  constructor(strict: boolean) {
    this.fd = native().rtnlSocket(strict);
  }

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

  receiveNow(): Buffer | undefined {
    const got = native().unixRecv(this.fd, RECV_BYTES);
    if (got?.truncated) throw new Error(`netlink datagram over ${RECV_BYTES} bytes: cut short`);
    return got?.data;
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
    // while someone waits for a datagram (a reply may unref us); the poll reports what is left next turn
    try {
      takeQueued(() => this.receiveNow(), this.onMessage, () => this.stopWatch !== undefined);
    } catch (e) {
      this.onError(e as Error);
    }
  }

  close(): void {
    this.unref();
    fs.closeSync(this.fd);
  }
}
