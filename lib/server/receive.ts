// Reading one request off an accepted connection: the header, the payload and the SCM_RIGHTS descriptors
// that ride the first sendmsg. libuv must not read this socket (it would drop the descriptors): the
// server accepts with pauseOnConnect and reads through the addon's recvmsg (conn-recv.ts).
import fs = require('node:fs');
import { recvWhenReadable, RecvTimeout } from './conn-recv';
import { decodeHeader, decodePayload, HEADER_BYTES, MAGIC, MAX_PAYLOAD, PROTOCOL_VERSION, ProtocolError, type Request } from './protocol';

export type Received =
  | { kind: 'request'; request: Request; fds: number[] }
  /** readable but not ours to run: the front-end goes cold (version mismatch) */
  | { kind: 'go-cold'; reason: string; fds: number[] }
  /** nothing usable: close the connection */
  | { kind: 'bad'; reason: string; fds: number[] };

const CHUNK = 65536;

export function closeAll(fds: number[]): void {
  for (const fd of fds) {
    try { fs.closeSync(fd); } catch { /* already closed */ }
  }
}

/** Reads a whole request from `fd`, waiting for late bytes up to `timeoutMs`. */
export async function receiveRequest(fd: number, timeoutMs: number): Promise<Received> {
  const fds: number[] = [];
  let data: Buffer = Buffer.alloc(0);
  const deadline = Date.now() + timeoutMs;
  let need = HEADER_BYTES;
  for (;;) {
    let got;
    try {
      // the first sendmsg is usually in before the accept callback runs: the wait only covers stragglers
      got = await recvWhenReadable(fd, Math.max(CHUNK, need - data.length), deadline - Date.now());
    } catch (e) {
      if (e instanceof RecvTimeout) return { kind: 'bad', reason: 'timed out waiting for the request', fds };
      throw e;
    }
    fds.push(...got.fds);
    if (got.truncated) return { kind: 'bad', reason: 'descriptors truncated (too many fds)', fds };
    if (got.data.length === 0) return { kind: 'bad', reason: `end of stream after ${data.length} bytes`, fds };
    data = data.length ? Buffer.concat([data, got.data]) : got.data;
    if (data.length < HEADER_BYTES) continue;
    const h = decodeHeader(data);
    if (h.magic !== MAGIC) return { kind: 'bad', reason: `magic 0x${h.magic.toString(16)}: not a berth request`, fds };
    if (h.version !== PROTOCOL_VERSION) {
      return { kind: 'go-cold', reason: `protocol version ${h.version}, server speaks ${PROTOCOL_VERSION}`, fds };
    }
    if (h.length > MAX_PAYLOAD) return { kind: 'bad', reason: `payload length ${h.length} over ${MAX_PAYLOAD}`, fds };
    need = HEADER_BYTES + h.length;
    if (data.length < need) continue;
    if (data.length > need) return { kind: 'bad', reason: `${data.length - need} bytes after the request`, fds };
    try {
      const request = decodePayload(data.subarray(HEADER_BYTES));
      if (request.targetFds.length !== fds.length) {
        return { kind: 'bad', reason: `fds: request lists ${request.targetFds.length}, SCM_RIGHTS carried ${fds.length}`, fds };
      }
      return { kind: 'request', request, fds };
    } catch (e) {
      if (e instanceof ProtocolError) return { kind: 'bad', reason: e.message, fds };
      throw e;
    }
  }
}
