// A stand-in for the berth server so that the native front-ends' side of the protocol (lib/server/protocol.ts)
// can be tested on its own: a Node unix-socket server that decodes each request and answers EXIT, GO_COLD, a
// bad frame or nothing. Node cannot receive SCM_RIGHTS (the kernel closes the descriptors it drops), so tests
// that need the descriptors use fake-serve-fds.py instead. The real server's own tests cover everything but
// protocol errors.
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { spawn } from 'node:child_process';

export const MAGIC = 0x31545242;
export const FRAME_EXIT = 1;
export const FRAME_GO_COLD = 2;

export interface FrontendRequest {
  version: number;
  buildId: string;
  program: string;
  cwd: string;
  argv: string[];
  env: string[];
  fds: number[];
}

/** What the fake does with a request: a frame to send, or hang up with nothing / with a frame no client knows. */
export type Answer = { exit: number } | { goCold: string } | 'hang-up' | 'bad-frame';

export interface FakeServer {
  socket: string;
  requests: FrontendRequest[];
  connections: number;
  close(): Promise<void>;
}

/** Decodes one request (header + payload) from the start of buf; undefined while it is incomplete. */
export function decodeRequest(buf: Buffer): FrontendRequest | undefined {
  if (buf.length < 12) return undefined;
  if (buf.readUInt32LE(0) !== MAGIC) throw new Error(`bad magic 0x${buf.readUInt32LE(0).toString(16)}`);
  const length = buf.readUInt32LE(8);
  if (buf.length < 12 + length) return undefined;
  let at = 12;
  const u32 = () => { const v = buf.readUInt32LE(at); at += 4; return v; };
  const str = () => { const n = u32(); const s = buf.toString('utf8', at, at + n); at += n; return s; };
  const list = <T>(item: () => T) => Array.from({ length: u32() }, item);
  const req = { version: buf.readUInt32LE(4), buildId: str(), program: str(), cwd: str(), argv: list(str), env: list(str), fds: list(u32) };
  if (at !== 12 + length) throw new Error(`payload length ${length} but ${at - 12} bytes decoded`);
  return req;
}

export function frame(type: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32LE(type, 0);
  head.writeUInt32LE(payload.length, 4);
  return Buffer.concat([head, payload]);
}

function answerBytes(answer: Answer): Buffer | undefined {
  if (answer === 'hang-up') return undefined;
  if (answer === 'bad-frame') return frame(9, Buffer.from('??'));
  if ('exit' in answer) {
    const p = Buffer.alloc(4);
    p.writeInt32LE(answer.exit, 0);
    return frame(FRAME_EXIT, p);
  }
  const reason = Buffer.from(answer.goCold);
  const p = Buffer.alloc(4 + reason.length);
  p.writeUInt32LE(reason.length, 0);
  reason.copy(p, 4);
  return frame(FRAME_GO_COLD, p);
}

/** Listens on <root>/serve.sock and answers every request with answer(request). */
export function fakeServe(root: string, answer: Answer | ((req: FrontendRequest) => Answer)): Promise<FakeServer> {
  const socket = path.join(root, 'serve.sock');
  const fake: FakeServer = { socket, requests: [], connections: 0, close: () => new Promise((r) => server.close(() => r())) };
  const server = net.createServer((conn) => {
    fake.connections++;
    let buf = Buffer.alloc(0);
    conn.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      const req = decodeRequest(buf);
      if (!req) return;
      fake.requests.push(req);
      const reply = answerBytes(typeof answer === 'function' ? answer(req) : answer);
      if (reply) conn.end(reply); else conn.destroy();
    });
    conn.on('error', () => {});
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(socket, () => {
      fs.chmodSync(socket, 0o600);
      resolve(fake);
    });
  });
}

export interface FdServer {
  /** One JSON line per request the helper decoded (its view: program, argv, fds, stdin it read). */
  requests(): Array<FrontendRequest & { stdin: string }>;
  close(): Promise<void>;
}

// Debian's python3 (scripts/setup.sh), reachable by the other users a test runs it as
export const PYTHON = '/usr/bin/python3';
const FD_HELPER = path.resolve(__dirname, '..', '..', '..', 'test', 'helpers', 'fake-serve-fds.py');

/**
 * The python3 helper (socket.recv_fds) on <root>/serve.sock: for each request it reads stdin from the passed
 * fd 0, writes marked lines into the passed fds 1, 2 and each preserved fd, and answers EXIT `status`.
 * `runAs`: a command prefix (setpriv ...) to run the helper as another user.
 */
export function fdServe(root: string, status: number, runAs: string[] = []): Promise<FdServer> {
  const log = path.join(root, 'fake-serve-fds.log');
  const argv = [...runAs, PYTHON, FD_HELPER, path.join(root, 'serve.sock'), String(status), log];
  const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
  const server: FdServer = {
    requests: () => fs.existsSync(log) ? fs.readFileSync(log, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)) : [],
    close: () => new Promise((r) => { if (child.exitCode !== null) return r(); child.once('exit', () => r()); child.kill(); }),
  };
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`fake-serve-fds.py exited (${code}) before listening`)));
    child.stdout!.once('data', () => resolve(server));
  });
}
