// The front-end <-> server wire protocol (issue 13), defined here and in native/src/frontend.c, which speaks
// it in C: change both together, and say so there and here.
//   request:  u32 magic "BRT1", u32 version, u32 payload length, payload (strings are u32 length + bytes):
//             build-id, program, cwd, argc + argv (no argv[0]), envc + "K=V"..., nfds + u32 target fds
//             (the fds themselves ride SCM_RIGHTS on the first sendmsg, in that order)
//   replies:  frames of u32 type, u32 length, payload: EXIT (i32 status), GO_COLD (string reason),
//             PLAN (i32 shim fd, i32 the server's fd of a ready network namespace or -1, plan bytes)
//             -> LAUNCHED (i32 pid, u32 direct, sync fd), WAIT (i32 pid) -> STATUS (i32)
// All integers little-endian.

export const MAGIC = 0x31545242; // "BRT1" read as a little-endian u32
export const PROTOCOL_VERSION = 1;
export const HEADER_BYTES = 12;
/** A request bigger than this is no front-end's: refuse it rather than buffer it. */
export const MAX_PAYLOAD = 16 * 1024 * 1024;

// PLAN..STATUS: the warm launch (remote-launch.ts, native/src/frontend.c)
export const FRAME = { EXIT: 1, GO_COLD: 2, PLAN: 3, LAUNCHED: 4, WAIT: 5, STATUS: 6 } as const;

export interface Request {
  buildId: string;
  program: string;
  cwd: string;
  argv: string[];
  env: string[];
  /** the client's fd number each passed descriptor stands for (0, 1, 2, --preserve-fds 3...) */
  targetFds: number[];
}

export interface Header {
  magic: number;
  version: number;
  length: number;
}

/** A request that cannot be read: the field that is wrong. */
export class ProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProtocolError';
  }
}

export function decodeHeader(b: Buffer): Header {
  if (b.length < HEADER_BYTES) throw new ProtocolError(`header: ${b.length} bytes, need ${HEADER_BYTES}`);
  return { magic: b.readUInt32LE(0), version: b.readUInt32LE(4), length: b.readUInt32LE(8) };
}

class Reader {
  private off = 0;
  constructor(private readonly b: Buffer) {}

  u32(field: string): number {
    if (this.off + 4 > this.b.length) throw new ProtocolError(`${field}: payload ends early`);
    const v = this.b.readUInt32LE(this.off);
    this.off += 4;
    return v;
  }

  str(field: string): string {
    const n = this.u32(`${field} length`);
    if (this.off + n > this.b.length) throw new ProtocolError(`${field}: ${n} bytes past the payload's end`);
    const s = this.b.toString('utf8', this.off, this.off + n);
    this.off += n;
    return s;
  }

  list<T>(field: string, item: (i: number) => T): T[] {
    const n = this.u32(`${field} count`);
    // each item takes 4 bytes at least: a count beyond that is garbage, not a reason to allocate
    if (n > (this.b.length - this.off) / 4) throw new ProtocolError(`${field} count: ${n} does not fit the payload`);
    const out: T[] = [];
    for (let i = 0; i < n; i++) out.push(item(i));
    return out;
  }

  end(): void {
    if (this.off !== this.b.length) throw new ProtocolError(`payload: ${this.b.length - this.off} bytes after the fd list`);
  }
}

export function decodePayload(payload: Buffer): Request {
  const r = new Reader(payload);
  const buildId = r.str('build-id');
  const program = r.str('program');
  const cwd = r.str('cwd');
  const argv = r.list('argv', (i) => r.str(`argv[${i}]`));
  const env = r.list('env', (i) => r.str(`env[${i}]`));
  const targetFds = r.list('fds', (i) => r.u32(`fds[${i}]`));
  r.end();
  return { buildId, program, cwd, argv, env, targetFds };
}

function u32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v >>> 0);
  return b;
}

function str(s: string): Buffer[] {
  const b = Buffer.from(s, 'utf8');
  return [u32(b.length), b];
}

/** The whole request (header + payload), as the front-end sends it; for the test client and the tests. */
export function encodeRequest(q: Request, version = PROTOCOL_VERSION): Buffer {
  const payload = Buffer.concat([
    ...str(q.buildId), ...str(q.program), ...str(q.cwd),
    u32(q.argv.length), ...q.argv.flatMap(str),
    u32(q.env.length), ...q.env.flatMap(str),
    u32(q.targetFds.length), ...q.targetFds.map(u32),
  ]);
  return Buffer.concat([u32(MAGIC), u32(version), u32(payload.length), payload]);
}

export function encodeFrame(type: number, payload: Buffer): Buffer {
  return Buffer.concat([u32(type), u32(payload.length), payload]);
}

export function exitFrame(status: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32LE(status | 0);
  return encodeFrame(FRAME.EXIT, b);
}

export function goColdFrame(reason: string): Buffer {
  return encodeFrame(FRAME.GO_COLD, Buffer.concat(str(reason)));
}

export type Reply = { type: 'exit'; status: number } | { type: 'go-cold'; reason: string } | { type: 'plan'; bytes: Buffer };

/** The first complete frame of `b`, with the bytes it took; undefined while it is incomplete. */
export function decodeFrame(b: Buffer): { reply: Reply; used: number } | undefined {
  if (b.length < 8) return undefined;
  const type = b.readUInt32LE(0);
  const length = b.readUInt32LE(4);
  if (b.length < 8 + length) return undefined;
  const p = b.subarray(8, 8 + length);
  const used = 8 + length;
  switch (type) {
    case FRAME.EXIT:
      if (length !== 4) throw new ProtocolError(`EXIT frame: ${length} bytes, want 4`);
      return { reply: { type: 'exit', status: p.readInt32LE(0) }, used };
    case FRAME.GO_COLD:
      return { reply: { type: 'go-cold', reason: new Reader(p).str('reason') }, used };
    case FRAME.PLAN:
      return { reply: { type: 'plan', bytes: Buffer.from(p) }, used };
    default:
      throw new ProtocolError(`frame type ${type}: unknown`);
  }
}
