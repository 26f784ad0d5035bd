// Typed face of the native addon (native/). Loaded lazily so commands that need no syscalls start faster.
import path = require('node:path');

export interface WaitResult {
  /** exit code, or -1 when the process was killed by a signal or was not our child */
  code: number;
  /** terminating signal number, 0 when it exited */
  signal: number;
}

export interface RecvFdResult {
  fd: number;
  fdCount: number;
  payload: string;
}

export interface Native {
  mount(source: string | null, target: string, fstype: string | null, flags: number, data: string | null): void;
  umount2(target: string, flags: number): void;
  /** Moves the calling (main) thread only: safe for network and uts namespaces, nothing else. */
  setns(fd: number, nstype: number): void;
  /** paths may be Buffers (names that are not UTF-8) */
  mknod(path: string | Buffer, mode: number, major: number, minor: number): void;
  /** open(2) of `path` resolved inside `root` as if it were "/" (openat2 RESOLVE_IN_ROOT, no magic links); close-on-exec. */
  openInRoot(root: string, path: string, flags: number): number;
  lsetxattr(path: string | Buffer, name: string, value: Buffer): void;
  lgetxattr(path: string, name: string): Buffer | null;
  llistxattr(path: string): string[];
  /** Blocking unless LOCK_NB is set: meant for short-lived CLI processes. */
  flock(fd: number, operation: number): void;
  sendFd(socketFd: number, fd: number, payload: string): void;
  recvFd(socketFd: number): RecvFdResult;
  pidfdOpen(pid: number): number;
  pidfdSendSignal(pidfd: number, signal: number): void;
  setChildSubreaper(on: boolean): void;
  socketpair(): [number, number];
  /** A close-on-exec duplicate of fd (F_DUPFD_CLOEXEC): another number to watchReadable a socket libuv owns. */
  dupFd(fd: number): number;
  waitPid(pid: number, callback: (code: number, signal: number) => void): void;
  /**
   * Starts a container process from a launch plan (see lib/runtime/plan.ts). `direct`: cloned straight
   * from this process (nothing to join, no user namespace), so `pid` is the container process itself, or
   * 0 for the vfork launch (no exec fifo): that child reports its pid over the sync socket (MSG_PID).
   * Otherwise `pid` is the short-lived first stage.
   */
  /** the launch plan encoded by lib/runtime/plan-codec.ts */
  spawn(plan: Buffer): { pid: number; direct: boolean };
  /** The descriptor of this process's sealed exec shim (native/src/exec_shim_fd.c), made on first use. */
  execShimFd(): number;
  // cgroup v2 device control (lib/cgroups/devices-v2.ts): BPF_PROG_TYPE_CGROUP_DEVICE programs
  bpfLoadDeviceProgram(insns: Buffer): number;
  bpfAttachDeviceProgram(cgroupFd: number, progFd: number): void;
  bpfDetachDeviceProgram(cgroupFd: number, progFd: number): void;
  bpfQueryDevicePrograms(cgroupFd: number): number[];
  bpfProgFdById(id: number): number;
  /**
   * Small file operations (cgroup files, container state) run in order on libuv's threadpool (native/src/fsbatch.c; built by
   * lib/cgroups/batch.ts, lib/runtime/state.ts). ops: flat [op, path, arg] triples; op 1 mkdir, 2 rmdir,
   * 3 write(arg), 4 read, 5 fill(arg = the parent's file), 6 create(arg = content; new file, mode 0600),
   * 7 rename(arg = target), 8 unlink; | 0x100 when the op's error must not stop the batch.
   */
  fsBatch(ops: (number | string | null)[]): Promise<FsBatchResult>;
  /**
   * Removes a network device of the namespace the process started in (native/src/rtnl.c): resolves with 0
   * once the kernel has taken it out of the namespace, not after the RCU wait that follows (a child process
   * sits that out); -ENODEV when there is none, -errno when the kernel refuses.
   */
  rtnlDeleteLink(name: string): Promise<number>;
  /**
   * A new, empty network namespace as a descriptor, made on a thread of its own (native/src/netns.c):
   * resolves with the fd, or -errno when the kernel refuses.
   */
  newNetns(): Promise<number>;
  /** A NETLINK_ROUTE socket for nlWriteChunks, in the calling thread's network namespace (native/src/nlwrite.c). */
  nlWriteOpen(): number;
  /**
   * Sends the netlink messages in bytes[0..length), perChunk per sendmsg, on libuv's threadpool, numbered from
   * firstSeq, each chunk's last asking for an ACK: resolves with (message index, errno) pairs of the refused ones.
   */
  nlWriteChunks(fd: number, bytes: Buffer, length: number, firstSeq: number, perChunk: number): Promise<Int32Array>;
  /**
   * A non-blocking NETLINK_ROUTE socket (native/src/nlsocket.c); strict sets NETLINK_GET_STRICT_CHK: the
   * kernel filters a dump by the request's header and attributes. Send with unixSend, read with unixRecv.
   */
  rtnlSocket(strict: boolean): number;
  // the berth server's socket (native/src/unixsock.c, lib/server/)
  /** Non-blocking recvmsg keeping SCM_RIGHTS descriptors (close-on-exec); null when nothing is there yet. */
  unixRecv(fd: number, maxBytes: number): { data: Buffer; fds: number[]; truncated: boolean } | null;
  /** One sendmsg of `data` with `fds` in SCM_RIGHTS; returns the bytes sent. */
  unixSend(fd: number, data: Buffer, fds: number[]): number;
  /** SO_PEERCRED of a connected unix socket. */
  peerCred(fd: number): { pid: number; uid: number; gid: number };
  /**
   * Calls onReadable(status) each time fd is readable or hung up (status < 0: a poll error) until the
   * returned stop() is called, keeping the event loop alive meanwhile (native/src/fdwatch.c): a socket
   * watched without Node's net module. Read it with unixRecv; close it after stop().
   */
  watchReadable(fd: number, onReadable: (status: number) => void): () => void;
}

export interface FsBatchResult {
  /** one per op that ran: 0 or -errno; a read's text; a fill's 1 when it copied the parent's value */
  results: (number | string)[];
  /** the op that stopped the batch, or -1 */
  failed: number;
  /** its errno, or 0 */
  errno: number;
}

let loaded: Native | undefined;

/** native/build/Release/berth_native.node of this installation (a bundle runs from dist/plugins or dist/cli). */
function addonPath(): string {
  const { installRoot } = require('../util/install') as typeof import('../util/install');
  return path.join(installRoot(), 'native', 'build', 'Release', 'berth_native.node');
}

export function native(): Native {
  if (!loaded) {
    const file = process.env.BERTH_NATIVE ?? addonPath();
    loaded = require(file) as Native;
  }
  return loaded;
}

export const MS = {
  RDONLY: 0x1, NOSUID: 0x2, NODEV: 0x4, NOEXEC: 0x8, SYNCHRONOUS: 0x10, REMOUNT: 0x20, MANDLOCK: 0x40,
  DIRSYNC: 0x80, NOSYMFOLLOW: 0x100, NOATIME: 0x400, NODIRATIME: 0x800, BIND: 0x1000, MOVE: 0x2000,
  REC: 0x4000, SILENT: 0x8000, UNBINDABLE: 0x20000, PRIVATE: 0x40000, SLAVE: 0x80000, SHARED: 0x100000,
  RELATIME: 0x200000, STRICTATIME: 0x1000000, LAZYTIME: 0x2000000,
} as const;

export const MNT_DETACH = 0x2;
export const LOCK = { SH: 1, EX: 2, NB: 4, UN: 8 } as const;
export const CLONE = {
  NEWNS: 0x00020000, NEWCGROUP: 0x02000000, NEWUTS: 0x04000000, NEWIPC: 0x08000000, NEWUSER: 0x10000000,
  NEWPID: 0x20000000, NEWNET: 0x40000000, NEWTIME: 0x00000080,
} as const;
