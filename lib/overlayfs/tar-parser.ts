// A push parser for a tar stream: chunks go in as they come out of gunzip, entries come out synchronously
// to a sink (header, then data pieces, then end). Nothing is buffered beyond one header block and one
// bounded extended header, so memory stays small whatever the archive claims.
import { ImageError } from './errors';
import { BLOCK, ExtendedHeaders, checkExtendedSize, isExtended, isZeroBlock, parseHeader, type RawHeader, type TarEntryHeader } from './tar-header';

export interface TarSink {
  /** `at`: offset of the entry's header in the tar stream (for messages) */
  entry(header: TarEntryHeader, at: number): void;
  data(chunk: Buffer): void;
  end(): void;
}

type State = 'header' | 'data' | 'extended' | 'padding' | 'zero' | 'done';

export class TarParser {
  private state: State = 'header';
  /** bytes of the stream consumed so far */
  private offset = 0;
  private readonly block = Buffer.alloc(BLOCK);
  private blockFill = 0;
  private remaining = 0;
  private padding = 0;
  private headerAt = 0;
  private pending: RawHeader | undefined;
  private extended: Buffer | undefined;
  private extendedFill = 0;
  private readonly ext = new ExtendedHeaders();

  constructor(private readonly sink: TarSink) {}

  push(chunk: Buffer): void {
    let pos = 0;
    while (pos < chunk.length) {
      switch (this.state) {
        case 'done':
          return; // what follows the end-of-archive marker is not part of the tree
        case 'header':
        case 'zero': {
          const n = Math.min(BLOCK - this.blockFill, chunk.length - pos);
          // the common case: a whole block inside this chunk, parsed in place
          const whole = this.blockFill === 0 && n === BLOCK;
          if (!whole) chunk.copy(this.block, this.blockFill, pos, pos + n);
          this.blockFill += n;
          pos += n;
          this.offset += n;
          if (this.blockFill < BLOCK) break;
          this.blockFill = 0;
          this.onBlock(whole ? chunk.subarray(pos - BLOCK, pos) : this.block);
          break;
        }
        case 'data': {
          const n = Math.min(this.remaining, chunk.length - pos);
          this.sink.data(chunk.subarray(pos, pos + n));
          pos += n;
          this.offset += n;
          this.remaining -= n;
          if (this.remaining === 0) {
            this.sink.end();
            this.state = this.padding > 0 ? 'padding' : 'header';
          }
          break;
        }
        case 'extended': {
          const buf = this.extended as Buffer;
          const n = Math.min(buf.length - this.extendedFill, chunk.length - pos);
          chunk.copy(buf, this.extendedFill, pos, pos + n);
          this.extendedFill += n;
          pos += n;
          this.offset += n;
          if (this.extendedFill === buf.length) {
            this.ext.take(this.pending as RawHeader, buf, this.headerAt);
            this.extended = undefined;
            this.state = this.padding > 0 ? 'padding' : 'header';
          }
          break;
        }
        case 'padding': {
          const n = Math.min(this.padding, chunk.length - pos);
          pos += n;
          this.offset += n;
          this.padding -= n;
          if (this.padding === 0) this.state = 'header';
          break;
        }
      }
    }
  }

  /** The stream ended: fine only between entries. */
  finish(): void {
    if ((this.state === 'header' || this.state === 'zero') && this.blockFill === 0) return;
    if (this.state === 'done') return;
    throw new ImageError(`tar stream truncated at offset ${this.offset} (inside the entry whose header is at offset ${this.headerAt})`);
  }

  private onBlock(block: Buffer): void {
    const at = this.offset - BLOCK;
    if (isZeroBlock(block)) {
      this.state = this.state === 'zero' ? 'done' : 'zero';
      return;
    }
    // Go's archive/tar (containerd) refuses the same: one zero block, then more entries
    if (this.state === 'zero') throw new ImageError(`tar stream: a zero block followed by data at offset ${at}`);
    const raw = parseHeader(block, at);
    this.headerAt = at;
    if (isExtended(raw)) {
      checkExtendedSize(raw, at);
      this.pending = raw;
      this.padding = pad(raw.size);
      if (raw.size === 0) {
        this.ext.take(raw, Buffer.alloc(0), at);
        this.state = this.padding > 0 ? 'padding' : 'header';
      } else {
        this.extended = Buffer.allocUnsafe(raw.size);
        this.extendedFill = 0;
        this.state = 'extended';
      }
      return;
    }
    const header = this.ext.apply(raw, at);
    this.sink.entry(header, at);
    this.remaining = header.size;
    this.padding = pad(header.size);
    if (header.size > 0) {
      this.state = 'data';
    } else {
      this.sink.end();
      this.state = 'header';
    }
  }
}

function pad(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}
