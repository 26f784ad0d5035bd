// A Node client of the berth server speaking lib/server/protocol.ts (issue 13), so the server's tests do not depend
// on the C front-end: it passes stdin/stdout/stderr as socketpair ends with SCM_RIGHTS (the addon's
// unixSend), collects what the server writes into them and the reply frame.
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { native } from '../../lib/sys/native';
import { decodeFrame, encodeRequest, PROTOCOL_VERSION, type Reply, type Request } from '../../lib/server/protocol';
import { readBuildId } from '../../lib/server/build-id';

export interface CallOptions {
  program?: string;
  argv: string[];
  env?: Record<string, string>;
  cwd?: string;
  stdin?: string | Buffer;
  /** default: this build's (dist/build-id) */
  buildId?: string;
  version?: number;
  /** send the request but pass no descriptors */
  noFds?: boolean;
}

export interface CallResult {
  /** undefined: the server closed without a frame */
  reply?: Reply;
  stdout: string;
  stderr: string;
}

/** Drains `fd` (our end of a socketpair) until EOF. */
function collect(fd: number): Promise<string> {
  const s = new net.Socket({ fd, readable: true, writable: false });
  const chunks: Buffer[] = [];
  return new Promise((resolve, reject) => {
    s.on('data', (d: Buffer) => chunks.push(d));
    s.on('error', reject);
    s.on('end', () => { s.destroy(); resolve(Buffer.concat(chunks).toString('utf8')); });
  });
}

export function envList(env: Record<string, string>): string[] {
  return Object.entries(env).map(([k, v]) => `${k}=${v}`);
}

/** One request to the server of `root`, as a front-end sends it. */
export async function call(root: string, o: CallOptions): Promise<CallResult> {
  const n = native();
  const [inOurs, inTheirs] = n.socketpair();
  const [outOurs, outTheirs] = n.socketpair();
  const [errOurs, errTheirs] = n.socketpair();
  const request: Request = {
    buildId: o.buildId ?? readBuildId() ?? '',
    program: o.program ?? 'berth',
    cwd: o.cwd ?? '/',
    argv: o.argv,
    env: envList(o.env ?? {}),
    targetFds: o.noFds ? [] : [0, 1, 2],
  };
  const stdout = collect(outOurs);
  const stderr = collect(errOurs);
  const conn = net.connect(path.join(root, 'serve.sock'));
  const replyBytes: Buffer[] = [];
  const closed = new Promise<void>((resolve, reject) => {
    conn.on('data', (d: Buffer) => replyBytes.push(d));
    conn.on('error', reject);
    conn.on('close', () => resolve());
  });
  try {
    await new Promise<void>((resolve, reject) => { conn.once('connect', resolve); conn.once('error', reject); });
    const fd = (conn as unknown as { _handle: { fd: number } })._handle.fd;
    const bytes = encodeRequest(request, o.version ?? PROTOCOL_VERSION);
    // the fds ride the first sendmsg; a big request's rest follows on the stream
    let sent = n.unixSend(fd, bytes, o.noFds ? [] : [inTheirs, outTheirs, errTheirs]);
    while (sent < bytes.length) sent += n.unixSend(fd, bytes.subarray(sent), []);
  } finally {
    // the server holds its own copies now
    for (const fdc of [inTheirs, outTheirs, errTheirs]) fs.closeSync(fdc);
  }
  if (o.stdin !== undefined) fs.writeSync(inOurs, typeof o.stdin === 'string' ? Buffer.from(o.stdin) : o.stdin);
  fs.closeSync(inOurs);
  await closed;
  const all = Buffer.concat(replyBytes);
  const frame = all.length ? decodeFrame(all) : undefined;
  return { reply: frame?.reply, stdout: await stdout, stderr: await stderr };
}

/** The status of an EXIT reply, or throws naming what came instead. */
export function exitStatus(r: CallResult): number {
  if (r.reply?.type !== 'exit') throw new Error(`expected EXIT, got ${r.reply ? JSON.stringify(r.reply) : 'no frame'} (stderr: ${r.stderr})`);
  return r.reply.status;
}
