// Parent side of the bootstrap: starts native.spawn(encodePlan(plan)) and answers the child over the sync socket.
// The child asks for its id maps, reports its pid (we place it in its cgroups), pauses after mounts
// (we run prestart/createRuntime hooks) and says READY before it waits on the exec fifo or execs.
// The sync socket is read through the addon's poll (watchReadable) and non-blocking recv, not a net.Socket:
// loading Node's net and stream modules cost more of a cold `berth run` than the launch itself.
import fs = require('node:fs');
import util = require('node:util');
import { native } from '../sys/native';
import { BootstrapError, MSG, SYNC_HEADER } from './bootstrap-steps';
import type { LaunchPlan } from './launch-plan';
import { encodePlan } from './plan-codec';
import { allowExecShim } from './seccomp/exec-shim';

const HEADER = SYNC_HEADER.size;

export interface LaunchCallbacks {
  /** the process (stage 1) that created a user namespace waits for its uid/gid maps */
  onNeedMaps?(pid: number): Promise<void>;
  /**
   * the container process exists: put it in its cgroups before it continues. `startTime`: its /proc stat
   * start time when the process reported it (the vfork launch), else undefined
   */
  onPid?(pid: number, startTime?: string): Promise<void>;
  /** mounts are done, pivot_root is next: run prestart/createRuntime hooks; returns the state JSON for container hooks */
  onMounted?(pid: number): Promise<string | undefined>;
}

export interface Launched {
  pid: number;
}

function errnoName(errno: number): string {
  const entry = util.getSystemErrorMap().get(-errno);
  return entry ? `${entry[0]} (${entry[1]})` : `errno ${errno}`;
}

/**
 * Resolves once the process is set up: waiting on its exec fifo (plan.execFifo) or, without a fifo,
 * after execve succeeded (the sync socket closes on exec). On failure the process is killed and reaped.
 */
export function launch(plan: LaunchPlan, callbacks: LaunchCallbacks = {}): Promise<Launched> {
  const n = native();
  const [parentFd, childFd] = n.socketpair();
  let stage1: number;
  let direct: boolean;
  try {
    // the bootstrap's last call, the exec shim's execveat, comes after the filter (seccomp/exec-shim.ts)
    const seccomp = plan.seccomp && allowExecShim(plan.seccomp, n.execShimFd());
    const spawned = n.spawn(encodePlan({ ...plan, seccomp, syncFd: childFd }));
    stage1 = spawned.pid;
    direct = spawned.direct === true;
  } catch (e) {
    fs.closeSync(parentFd);
    throw e;
  } finally {
    fs.closeSync(childFd);
  }
  // stage 1 exits once it has cloned the container process; a direct spawn is the container process itself,
  // reaped by whoever waits for the container (run(), a shim, a subreaper), never here. A direct spawn
  // without a pid yet (the vfork launch, see native/src/spawn.c) reports it over the socket like stage 1.
  if (!direct) n.waitPid(stage1, () => undefined);
  return supervise(plan, parentFd, direct && stage1 > 0 ? stage1 : 0, true, callbacks);
}

/**
 * The server's half of a launch another process forked (the native front-end, issue #13): it decoded the
 * plan, forked the bootstrap and passed us its end of the sync socket with the pid (the container's when
 * direct, else stage 1's, which the front-end reaps). The container process is the front-end's child, not
 * ours: on failure we kill it and the front-end reaps it.
 */
export function adoptLaunch(plan: LaunchPlan, syncFd: number, pid: number, direct: boolean,
  callbacks: LaunchCallbacks = {}): Promise<Launched> {
  return supervise(plan, syncFd, direct && pid > 0 ? pid : 0, false, callbacks);
}

/** Answers the bootstrap over parentFd. knownPid: the container's pid when already known (a direct spawn). */
function supervise(plan: LaunchPlan, parentFd: number, knownPid: number, reap: boolean,
  callbacks: LaunchCallbacks): Promise<Launched> {
  const n = native();
  const waitForExec = plan.execFifo === null;

  return new Promise<Launched>((resolve, reject) => {
    let buf: Buffer = Buffer.alloc(0);
    let pid = 0;
    let ready = false;
    let settled = false;
    let open = true;
    let chain = Promise.resolve();
    let stopWatch = (): void => undefined;

    const close = () => {
      if (!open) return;
      open = false;
      stopWatch();
      fs.closeSync(parentFd);
    };
    const finish = (err?: Error) => {
      if (settled) return;
      settled = true;
      close();
      if (err) {
        if (pid > 0) {
          try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ }
          if (reap) n.waitPid(pid, () => undefined);
        }
        reject(err);
      } else {
        resolve({ pid });
      }
    };
    const go = (payload?: string) => {
      if (!open) return;
      const body = payload ? Buffer.from(payload) : Buffer.alloc(0);
      const msg = Buffer.alloc(HEADER + body.length);
      msg.writeUInt32LE(MSG.GO, SYNC_HEADER.type);
      msg.writeUInt32LE(body.length, SYNC_HEADER.len);
      body.copy(msg, HEADER);
      // A fresh socketpair's buffer has room, and the child reads each GO before it sends again: one
      // write(2) in practice. A descriptor passed non-blocking (a front-end's) waits out a full buffer.
      for (let sent = 0; sent < msg.length;) {
        try {
          sent += fs.writeSync(parentFd, msg, sent);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
        }
      }
    };
    const handle = async (type: number, a: number, b: number, c: number, payload: string) => {
      switch (type) {
        case MSG.NEED_MAPS:
          await callbacks.onNeedMaps?.(a);
          go();
          break;
        case MSG.PID:
          pid = a;
          await callbacks.onPid?.(a, payload || undefined);
          if (plan.waitPlaced) go(); // else it went on at once: its next message waits in the chain meanwhile
          break;
        case MSG.MOUNTED:
          go(await callbacks.onMounted?.(pid));
          break;
        case MSG.READY:
          ready = true;
          if (!waitForExec) finish();
          break;
        case MSG.ERROR:
          finish(new BootstrapError(a, b, c, payload, errnoName(b)));
          break;
        default:
          finish(new Error(`bootstrap: unexpected message ${type}`));
      }
    };
    const onData = (chunk: Buffer) => {
      buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
      while (buf.length >= HEADER) {
        const len = buf.readUInt32LE(SYNC_HEADER.len);
        if (buf.length < HEADER + len) break;
        const type = buf.readUInt32LE(SYNC_HEADER.type);
        const a = buf.readInt32LE(SYNC_HEADER.a);
        const b = buf.readInt32LE(SYNC_HEADER.b);
        const c = buf.readInt32LE(SYNC_HEADER.c);
        const payload = buf.subarray(HEADER, HEADER + len).toString();
        buf = buf.subarray(HEADER + len);
        chain = chain.then(() => handle(type, a, b, c, payload)).catch((e: Error) => finish(e));
      }
    };
    // the child closes its end when it execs (or dies): what it sent before is handled first
    const onEnd = () => {
      close();
      chain.then(() => {
        if (ready) finish();
        else finish(new Error('container process exited during setup'));
      });
    };
    const onReadable = (status: number) => {
      if (!open) return;
      let got: ReturnType<typeof n.unixRecv>;
      try {
        if (status < 0) throw new Error(`sync socket: ${util.getSystemErrorName(status)}`);
        got = n.unixRecv(parentFd, 65536);
      } catch (e) {
        finish(e as Error);
        return;
      }
      if (got === null) return; // woken early: nothing there yet
      for (const fd of got.fds) fs.closeSync(fd); // the bootstrap passes none
      if (got.data.length === 0) onEnd();
      else onData(got.data);
    };
    stopWatch = n.watchReadable(parentFd, onReadable);
    // a direct spawn has no stage 1 to report the pid: it is the one spawn returned
    if (knownPid > 0) chain = chain.then(() => handle(MSG.PID, knownPid, 0, 0, '')).catch((e: Error) => finish(e));
  });
}
