// The launch plan as bytes: what native.spawn() takes, and what the berth server will send to the native
// front-end, both decoded by native/src/plan_decode.c into the bootstrap's struct plan.
//
// Layout (version 2), little-endian, fields in the order written below:
//   "BPLN", u8 version, 3 zero bytes, u32 total length, then the fields.
//   number: i64; bigint: u64; bool: u8; string: u32 byte length (0xffffffff = null), UTF-8, no NUL;
//   list: u32 count, then the items; bytes: as a string.
// Change the layout only together with PLAN_VERSION and the decoder; test/unit/plan-codec.test.ts
// round-trips every field through the C decoder.
import type { DeviceStep, HookStep, LaunchPlan, MountStep, RlimitStep } from './launch-plan';

export const PLAN_MAGIC = 'BPLN';
export const PLAN_VERSION = 2;
const NULL_LENGTH = 0xffffffff;
const TWO_32 = 2 ** 32;

class Writer {
  buf: Buffer;
  off = 0;
  constructor(buf: Buffer) {
    this.buf = buf;
  }
  private room(n: number): void {
    if (this.off + n <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.off + n));
    this.buf.copy(bigger, 0, 0, this.off);
    this.buf = bigger;
  }
  u8(v: number): void {
    this.room(1);
    this.buf[this.off++] = v;
  }
  bool(v: boolean): void {
    this.u8(v ? 1 : 0);
  }
  u32(v: number): void {
    this.room(4);
    this.buf.writeUInt32LE(v, this.off);
    this.off += 4;
  }
  num(v: number): void {
    if (!Number.isSafeInteger(v)) throw new TypeError(`launch plan: ${v} is not an integer`);
    const hi = Math.floor(v / TWO_32);
    this.room(8);
    this.buf.writeUInt32LE(v - hi * TWO_32, this.off);
    this.buf.writeInt32LE(hi, this.off + 4);
    this.off += 8;
  }
  big(v: bigint): void {
    this.room(8);
    this.buf.writeBigUInt64LE(BigInt.asUintN(64, v), this.off);
    this.off += 8;
  }
  str(s: string | null): void {
    if (s === null) return this.u32(NULL_LENGTH);
    this.room(4 + s.length * 3);
    const n = this.buf.write(s, this.off + 4, 'utf8');
    this.buf.writeUInt32LE(n, this.off);
    this.off += 4 + n;
  }
  bytes(b: Buffer | null): void {
    if (b === null) return this.u32(NULL_LENGTH);
    this.u32(b.length);
    this.room(b.length);
    b.copy(this.buf, this.off);
    this.off += b.length;
  }
  list<T>(items: readonly T[], each: (item: T) => void): void {
    this.u32(items.length);
    for (const item of items) each(item);
  }
  strs(items: readonly string[]): void {
    this.u32(items.length);
    for (const s of items) this.str(s);
  }
}

// Reused across launches: native.spawn copies what it needs before it returns.
let scratch: Buffer = Buffer.allocUnsafe(16 * 1024);

function mount(w: Writer, m: MountStep): void {
  w.str(m.source);
  w.str(m.target);
  w.str(m.fstype);
  w.num(m.flags);
  w.list(m.propagation, (p) => w.num(p));
  w.str(m.data);
  w.bool(m.bind);
  w.bool(m.file);
  w.big(m.attrSet);
  w.big(m.attrClr);
  w.num(m.index);
}

function device(w: Writer, d: DeviceStep): void {
  w.str(d.path);
  w.num(d.mode);
  w.num(d.major);
  w.num(d.minor);
  w.num(d.uid);
  w.num(d.gid);
  w.bool(d.bind);
  w.num(d.index);
}

function hook(w: Writer, h: HookStep): void {
  w.str(h.path);
  w.strs(h.args);
  w.strs(h.env);
  w.num(h.timeout);
  w.num(h.index);
}

function rlimit(w: Writer, r: RlimitStep): void {
  w.num(r.resource);
  w.big(r.soft);
  w.big(r.hard);
}

/**
 * The plan's bytes. The result is a view of a buffer the next call reuses: hand it to native.spawn (which
 * copies) or copy it before encoding again.
 */
export function encodePlan(plan: LaunchPlan): Buffer {
  const w = new Writer(scratch);
  w.buf.write(PLAN_MAGIC, 0, 'latin1');
  w.off = 4;
  w.u8(PLAN_VERSION);
  w.u8(0);
  w.u8(0);
  w.u8(0);
  w.u32(0); // total length, filled in below

  w.num(plan.cloneFlags);
  w.bool(plan.newUserns);
  w.list(plan.join, (j) => {
    w.num(j.type);
    w.str(j.path);
  });
  w.str(plan.timeOffsets);
  w.num(plan.syncFd ?? -1);

  w.str(plan.rootfs);
  w.num(plan.rootPropagation);
  w.bool(plan.noPivot);
  w.bool(plan.readonlyRoot);
  w.bool(plan.pauseAfterMounts);
  w.list(plan.mounts, (m) => mount(w, m));
  w.list(plan.devices, (d) => device(w, d));
  w.bool(plan.defaultLinks);
  w.strs(plan.maskedPaths);
  w.strs(plan.readonlyPaths);
  w.str(plan.hostname);
  w.str(plan.domainname);
  w.strs(plan.sysctlPaths);
  w.strs(plan.sysctlValues);

  w.strs(plan.args);
  w.strs(plan.env);
  w.str(plan.cwd);
  w.num(plan.uid);
  w.num(plan.gid);
  w.list(plan.additionalGids, (g) => w.num(g));
  w.bool(plan.setGroups);
  w.num(plan.umask);
  w.list(plan.rlimits, (r) => rlimit(w, r));
  const caps = plan.capabilities;
  w.bool(caps !== null);
  if (caps) for (const set of [caps.bounding, caps.effective, caps.inheritable, caps.permitted, caps.ambient]) w.big(set);
  w.bool(plan.noNewPrivileges);
  w.bool(plan.oomScoreAdj !== null);
  w.num(plan.oomScoreAdj ?? 0);
  w.num(plan.personality);
  w.bytes(plan.seccomp);
  w.num(plan.seccompFlags);
  w.bool(plan.terminal);
  w.num(plan.consoleSocketFd);
  w.num(plan.consoleRows);
  w.num(plan.consoleCols);
  w.str(plan.execFifo);
  w.num(plan.preserveFds);
  for (const fd of plan.stdio) w.num(fd);
  w.list(plan.createContainerHooks, (h) => hook(w, h));
  w.list(plan.startContainerHooks, (h) => hook(w, h));
  w.bool(plan.setsid);
  w.strs(plan.cgroupTasks);
  w.str(plan.cgroupV2);
  w.bool(plan.waitPlaced);

  w.buf.writeUInt32LE(w.off, 8);
  scratch = w.buf;
  return w.buf.subarray(0, w.off);
}
