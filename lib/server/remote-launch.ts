// The warm launch (issue #13): the server computed the plan exactly as a cold create does; the front-end
// that asked forks the bootstrap from it, so that the container is its descendant as with runc (containerd's
// shim is a subreaper), and hands back its end of the sync socket with the pid. We then answer the bootstrap
// over that socket as the cold launcher does (adoptLaunch). Frames (protocol.ts): PLAN and WAIT go out,
// LAUNCHED and STATUS come back. A front-end that forked nothing makes the request go cold.
import fs = require('node:fs');
import type net = require('node:net');
import { adoptLaunch, type LaunchCallbacks, type Launched } from '../runtime/launcher';
import type { LaunchPlan } from '../runtime/launch-plan';
import type { LaunchRoute } from '../runtime/launch-route';
import { encodePlan } from '../runtime/plan-codec';
import { allowExecShim } from '../runtime/seccomp/exec-shim';
import { recvWhenReadable, RecvTimeout } from './conn-recv';
import { netnsPool, wantsReadyNetns } from './netns-pool';
import { FRAME } from './protocol';
import { socketFd } from '../util/unix-socket';

/**
 * The descriptor number the front-end puts its exec shim at: the seccomp filter allows the bootstrap's
 * execveat on this number only, and the plan is built before we know the front-end's descriptors. Above
 * any --preserve-fds (at most 250) and below the usual soft RLIMIT_NOFILE; the front-end checks it is free.
 */
export const FRONTEND_SHIM_FD = 1000;

/** The front-end forked nothing: the request goes cold, as if the server had never taken it. */
export class LaunchWentCold extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'LaunchWentCold';
  }
}

interface Frame {
  type: number;
  payload: Buffer;
  fds: number[];
}

export class RemoteLaunch implements LaunchRoute {
  /** set once the front-end forked nothing: the caller answers GO_COLD */
  cold: string | undefined;
  private launched = false;

  /** the connection's descriptor: frames that carry descriptors are read with recvmsg, past libuv */
  private readonly fd: number;

  /**
   * conn: the request's connection (paused: libuv reads it only for STATUS, which carries no descriptor).
   * silence: mutes the request's output, so that the cold call that follows a fork failure is the only one
   * the client hears
   */
  constructor(private readonly conn: net.Socket, private readonly silence: () => void) {
    this.fd = socketFd(conn);
  }

  async launch(plan: LaunchPlan, callbacks: LaunchCallbacks): Promise<Launched> {
    if (this.launched) throw new Error('warm launch: one container per request');
    this.launched = true;
    const seccomp = plan.seccomp && allowExecShim(plan.seccomp, FRONTEND_SHIM_FD);
    const bytes = encodePlan({ ...plan, seccomp, syncFd: -1 });
    // the front-end opens the namespace through our descriptor table (/proc/<our pid>/fd/N): kept open
    // until it has answered
    const netns = wantsReadyNetns(plan) ? netnsPool.take() : -1;
    const head = Buffer.alloc(8);
    head.writeInt32LE(FRONTEND_SHIM_FD, 0);
    head.writeInt32LE(netns, 4);
    let got: Frame;
    try {
      await this.send(FRAME.PLAN, Buffer.concat([head, bytes]));
      got = await this.receive(FRAME.LAUNCHED, 8, 10_000);
    } finally {
      if (netns >= 0) fs.closeSync(netns);
    }
    const pid = got.payload.readInt32LE(0);
    const direct = got.payload.readUInt32LE(4) === 1;
    if (pid <= 0 || got.fds.length !== 1) {
      for (const fd of got.fds) fs.closeSync(fd);
      this.cold = 'the front-end could not fork the bootstrap';
      this.silence();
      throw new LaunchWentCold(this.cold);
    }
    return adoptLaunch(plan, got.fds[0], pid, direct, callbacks);
  }

  waitPid(pid: number, onExit: (code: number, signal: number) => void): void {
    const payload = Buffer.alloc(4);
    payload.writeInt32LE(pid);
    // the front-end is the container's parent: it waits and reports the status (128+signal when killed)
    this.send(FRAME.WAIT, payload)
      .then(() => this.receiveStatus())
      .then((status) => onExit(status, 0), () => onExit(255, 0));
  }

  /**
   * The STATUS frame, however long the container runs: libuv tells us when it arrives (polling would wake
   * the server for every foreground container many times a second).
   */
  private receiveStatus(): Promise<number> {
    const conn = this.conn;
    return new Promise<number>((resolve, reject) => {
      let data = Buffer.alloc(0);
      const finish = (err: Error | undefined, status = 255): void => {
        conn.off('data', onData);
        conn.off('end', onEnd);
        conn.off('close', onEnd);
        conn.pause();
        if (err) reject(err);
        else resolve(status);
      };
      const onData = (d: Buffer): void => {
        data = Buffer.concat([data, d]);
        if (data.length < 8) return;
        if (data.readUInt32LE(0) !== FRAME.STATUS || data.readUInt32LE(4) !== 4) {
          finish(new Error(`warm launch: frame ${data.readUInt32LE(0)} (${data.readUInt32LE(4)} bytes), expected ${FRAME.STATUS}`));
        } else if (data.length >= 12) {
          finish(undefined, data.readInt32LE(8));
        }
      };
      const onEnd = (): void => finish(new Error('warm launch: the front-end went away'));
      conn.on('data', onData);
      conn.once('end', onEnd);
      conn.once('close', onEnd);
      conn.resume();
    });
  }

  private async send(type: number, payload: Buffer): Promise<void> {
    const frame = Buffer.alloc(8 + payload.length);
    frame.writeUInt32LE(type, 0);
    frame.writeUInt32LE(payload.length, 4);
    payload.copy(frame, 8);
    for (let off = 0; off < frame.length;) {
      try {
        off += fs.writeSync(this.fd, frame, off);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
        await new Promise((r) => setTimeout(r, 1));
      }
    }
  }

  /** One frame of `type` with a `length`-byte payload, or an error naming what came instead. */
  private async receive(type: number, length: number, timeoutMs: number): Promise<Frame> {
    const fds: number[] = [];
    let data: Buffer = Buffer.alloc(0);
    const deadline = Date.now() + timeoutMs;
    while (data.length < 8 + length) {
      let got;
      try {
        got = await recvWhenReadable(this.fd, 8 + length - data.length, deadline - Date.now());
      } catch (e) {
        for (const fd of fds) fs.closeSync(fd);
        throw e instanceof RecvTimeout ? new Error('warm launch: the front-end did not answer') : e;
      }
      fds.push(...got.fds);
      if (got.data.length === 0) {
        for (const fd of fds) fs.closeSync(fd);
        throw new Error('warm launch: the front-end went away');
      }
      data = data.length ? Buffer.concat([data, got.data]) : got.data;
      if (data.length >= 8 && (data.readUInt32LE(0) !== type || data.readUInt32LE(4) !== length)) {
        for (const fd of fds) fs.closeSync(fd);
        throw new Error(`warm launch: frame ${data.readUInt32LE(0)} (${data.readUInt32LE(4)} bytes), expected ${type}`);
      }
    }
    return { type, payload: data.subarray(8), fds };
  }
}
