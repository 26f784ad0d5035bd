// Cuts a TCP byte stream into whole BGP messages: chunks may hold half a message or several.
import { checkHeader } from './message';

export class Framer {
  private pending: Buffer = Buffer.alloc(0);

  /** Returns each complete message in order; throws BgpError on a bad header (the stream is then lost). */
  push(chunk: Buffer): Buffer[] {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    const out: Buffer[] = [];
    for (;;) {
      const len = checkHeader(this.pending);
      if (len === undefined || this.pending.length < len) break;
      out.push(this.pending.subarray(0, len));
      this.pending = this.pending.subarray(len);
    }
    return out;
  }

  get buffered(): number { return this.pending.length; }
}
