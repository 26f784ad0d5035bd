// Content digests: validation of "algo:hex" strings and a pass-through stream that hashes what flows by.
import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { ImageError } from './errors';

const DIGEST = /^(sha256):([0-9a-f]{64})$/;

/** Checks a digest string from an untrusted manifest; the store only knows sha256. */
export function checkDigest(digest: unknown, field: string): string {
  if (typeof digest !== 'string' || !DIGEST.test(digest)) {
    throw new ImageError(`not a sha256 digest: ${JSON.stringify(digest)}`, { field });
  }
  return digest;
}

export function sha256(data: Buffer): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** Throws the message every check uses: what was checked, expected vs actual. */
export function verifyDigest(what: string, expected: string, actual: string): void {
  if (expected !== actual) {
    throw new ImageError(`digest mismatch for ${what}: expected ${expected}, got ${actual}`);
  }
}

/** Hashes and counts the bytes passing through, so verification costs no second read. */
export class HashingStream extends Transform {
  private readonly hash: Hash = createHash('sha256');
  bytes = 0;
  constructor(private readonly onBytes?: (n: number) => void) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    this.onBytes?.(chunk.length);
    cb(null, chunk);
  }
  /** Valid once the stream has ended. */
  digest(): string {
    return `sha256:${this.hash.digest('hex')}`;
  }
}
