// Bulk rtnetlink writes (route adds and deletes) on libuv's threadpool (native/src/nlwrite.c): the kernel
// does a request's work inside sendmsg, so on the main thread a big batch would hold the event loop for
// the kernel's whole share. Here the loop keeps running (a BGP speaker keeps parsing) while the kernel
// inserts. Dumps and requests with replies stay on Rtnl (socket.ts).
import * as fs from 'node:fs';
import { native } from '../../../sys/native';
import { NetlinkError, type NlRequest } from './socket';

/** messages per sendmsg: the refusals of a whole chunk must fit the socket's receive buffer at once */
const CHUNK = 256;

/**
 * Messages encoded back to back into one growing buffer, for NlWriter.write: no object per message.
 * Sequence numbers and NLM_F_REQUEST/NLM_F_ACK are stamped by the writer.
 */
export class NlBatch {
  bytes = Buffer.allocUnsafe(64 * 1024);
  length = 0;
  count = 0;

  /** Appends a message of type `type` with a zeroed body of `bodyLen` bytes; returns the body's offset. */
  message(type: number, flags: number, bodyLen: number): number {
    const size = 16 + ((bodyLen + 3) & ~3); // the next header 4-aligned (NLMSG_ALIGN)
    if (this.length + size > this.bytes.length) {
      const grown = Buffer.allocUnsafe(Math.max(this.bytes.length * 2, this.length + size));
      this.bytes.copy(grown, 0, 0, this.length);
      this.bytes = grown;
    }
    const at = this.length;
    this.bytes.fill(0, at, at + size);
    this.bytes.writeUInt32LE(16 + bodyLen, at);
    this.bytes.writeUInt16LE(type, at + 4);
    this.bytes.writeUInt16LE(flags, at + 6);
    this.length += size;
    this.count++;
    return at + 16;
  }
}

export class NlWriter {
  private readonly fd = native().nlWriteOpen();
  private seq = Math.floor(Math.random() * 0x7fffffff);
  /** one nlWriteChunks at a time per socket: each reads its own answers */
  private tail: Promise<unknown> = Promise.resolve();
  private closed = false;

  /**
   * Sends a batch (none of its messages expects a reply): resolves with (message index, errno) pairs, one
   * per message the kernel refused. Rejects only if the work could not run at all (nothing was sent).
   */
  write(batch: NlBatch, chunk = CHUNK): Promise<Int32Array> {
    if (this.closed) return Promise.reject(new Error('netlink socket closed'));
    const first = (this.seq + 1) >>> 0;
    this.seq = (this.seq + batch.count) >>> 0;
    const run = this.tail.then(() => native().nlWriteChunks(this.fd, batch.bytes, batch.length, first, Math.max(1, chunk)));
    this.tail = run.catch(() => undefined);
    return run;
  }

  /** write() for ready-made requests: one entry per request, undefined when accepted, else its error. Never rejects. */
  async writeBatch(reqs: readonly NlRequest[], chunk = CHUNK): Promise<(Error | undefined)[]> {
    const out: (Error | undefined)[] = new Array(reqs.length).fill(undefined);
    if (reqs.length === 0) return out;
    const batch = new NlBatch();
    for (const r of reqs) {
      const at = batch.message(r.type, r.flags, r.body.length); // may grow batch.bytes: take the offset first
      r.body.copy(batch.bytes, at);
    }
    try {
      const refused = await this.write(batch, chunk);
      for (let k = 0; k < refused.length; k += 2) out[refused[k]] = new NetlinkError(reqs[refused[k]].op, refused[k + 1]);
    } catch (e) {
      out.fill(e as Error); // nothing was sent
    }
    return out;
  }

  /** Closes the socket once the writes queued before it are done. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    void this.tail.then(() => fs.closeSync(this.fd));
  }
}
