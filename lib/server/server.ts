// `berth serve`: one server per --root. It listens on <root>/serve.sock (mode 0600, and SO_PEERCRED must
// say uid 0), holds <root>/serve.pid under an flock so two servers never share a root, runs requests
// concurrently and exits after an idle time. It keeps nothing that is not on disk: every request reads
// and writes the same state files, under the same locks, as a cold call would.
import fs = require('node:fs');
import net = require('node:net');
import path = require('node:path');
import { tryLockSync } from '../util/file-lock';
import { peerCred, socketFd } from '../util/unix-socket';
import { readBuildId } from './build-id';
import { exitFrame, goColdFrame } from './protocol';
import { closeAll, receiveRequest } from './receive';
import { runRequest, type CliEntry } from './runner';

export interface ServeOptions {
  root: string;
  idleTimeoutMs: number;
  /** log lines go here (stderr in the foreground, <root>/serve.log when started in the background) */
  log: (line: string) => void;
  /** more requests than this at once: the newcomers go cold */
  maxInFlight?: number;
  /** runs one berth command line (the CLI's main) */
  runCli: CliEntry;
  /** the root must exist already (an auto-started server: its caller's root may be gone by now) */
  existingRoot?: boolean;
}

/** The root is gone before the server could take it: nothing to serve. */
export class RootGone extends Error {
  constructor(root: string) {
    super(`${root} does not exist`);
    this.name = 'RootGone';
  }
}

export const socketPath = (root: string): string => path.join(root, 'serve.sock');
export const pidPath = (root: string): string => path.join(root, 'serve.pid');
export const logPath = (root: string): string => path.join(root, 'serve.log');

/** A second server for a root that has one. */
export class AlreadyServing extends Error {
  constructor(readonly root: string, readonly pid: string) {
    super(`a berth server already serves ${root} (pid ${pid || 'unknown'})`);
    this.name = 'AlreadyServing';
  }
}

/** Takes <root>/serve.pid's lock for as long as this process lives, and writes our pid into it. */
function lockPidFile(root: string): number {
  const file = pidPath(root);
  const fd = tryLockSync(file, 'exclusive');
  if (fd === undefined) {
    let pid = '';
    try { pid = fs.readFileSync(file, 'utf8').trim(); } catch { /* being rewritten */ }
    throw new AlreadyServing(root, pid);
  }
  fs.ftruncateSync(fd, 0);
  fs.writeSync(fd, `${process.pid}\n`, 0);
  return fd;
}

/**
 * Sends the last frame and closes. The connection is never read by libuv (pauseOnConnect), so it would
 * never see the client's end of stream and stay open, holding server.close() forever. The frame is a few
 * bytes into a socket nobody else writes: one write(2) takes it, without the stream's write machinery;
 * the stream sends what a full buffer left.
 */
function reply(conn: net.Socket, frame: Buffer): void {
  let sent = 0;
  try {
    sent = fs.writeSync(socketFd(conn), frame);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') {
      conn.destroy(); // the client is gone
      return;
    }
  }
  if (sent === frame.length) conn.destroy();
  else conn.end(frame.subarray(sent), () => conn.destroy());
}

/** The namespaces a request's work depends on: the network (CNI, netlink) and the mounts (every path). */
const NAMESPACES = ['net', 'mnt'] as const;

function nsIds(pid: number | 'self'): string[] {
  return NAMESPACES.map((ns) => {
    const st = fs.statSync(`/proc/${pid}/ns/${ns}`);
    return `${st.dev}:${st.ino}`;
  });
}

/** Why a client elsewhere (another network or mount namespace, e.g. a lab node) must go cold, if it must. */
function namespaceMismatch(pid: number, own: string[]): string | undefined {
  let theirs: string[];
  try {
    theirs = nsIds(pid);
  } catch (e) {
    return `cannot read the namespaces of pid ${pid}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`;
  }
  const i = theirs.findIndex((id, k) => id !== own[k]);
  return i < 0 ? undefined : `client pid ${pid} is in another ${NAMESPACES[i]} namespace`;
}

/** Runs the server until it has been idle for idleTimeoutMs (or gets SIGTERM/SIGINT); resolves then. */
export async function serve(opts: ServeOptions): Promise<void> {
  const root = path.resolve(opts.root);
  if (opts.existingRoot && !fs.existsSync(root)) throw new RootGone(root);
  fs.mkdirSync(root, { recursive: true, mode: 0o700 });
  const pidFd = lockPidFile(root);
  const sock = socketPath(root);
  // ours now (we hold the lock): a socket left here was a dead server's
  fs.rmSync(sock, { force: true });
  const buildId = readBuildId();
  const ownNs = nsIds('self');
  const maxInFlight = opts.maxInFlight ?? 1024;
  let inFlight = 0;
  let idleTimer: NodeJS.Timeout | undefined;
  let stopping = false;

  const server = net.createServer({ pauseOnConnect: true, allowHalfOpen: true });
  const done = new Promise<void>((resolve) => server.on('close', resolve));

  const stop = (why: string): void => {
    if (stopping) return;
    stopping = true;
    opts.log(`stopping: ${why}`);
    // the socket goes first so that new clients go cold rather than queue behind a closing server
    try { fs.unlinkSync(sock); } catch { /* gone */ }
    server.close();
  };
  const armIdle = (): void => {
    if (idleTimer) clearTimeout(idleTimer);
    idleTimer = inFlight === 0 ? setTimeout(() => stop(`idle for ${opts.idleTimeoutMs} ms`), opts.idleTimeoutMs) : undefined;
  };

  const handle = async (conn: net.Socket): Promise<void> => {
    const fd = socketFd(conn);
    const cred = peerCred(conn);
    // read before any answer, even a refusal: closing on unread bytes resets the connection (ECONNRESET)
    // and the client would lose the frame
    const got = await receiveRequest(fd, 5000);
    try {
      if (cred.uid !== 0) {
        opts.log(`refused pid ${cred.pid}: uid ${cred.uid} is not root`);
        reply(conn, goColdFrame(`refused: uid ${cred.uid} is not root`));
        return;
      }
      const elsewhere = namespaceMismatch(cred.pid, ownNs);
      if (elsewhere) {
        reply(conn, goColdFrame(elsewhere));
        return;
      }
      if (got.kind === 'bad') {
        opts.log(`bad request from pid ${cred.pid}: ${got.reason}`);
        conn.destroy();
        return;
      }
      if (got.kind === 'go-cold') {
        reply(conn, goColdFrame(got.reason));
        return;
      }
      if (inFlight > maxInFlight) {
        reply(conn, goColdFrame(`busy: ${inFlight} requests in flight`));
        return;
      }
      let status: number;
      try {
        const out = await runRequest(got.request, got.fds, { root, buildId, runCli: opts.runCli, conn });
        if (out.type === 'go-cold') {
          reply(conn, goColdFrame(out.reason));
          return;
        }
        status = out.status;
      } catch (e) {
        // a handler that throws past its own error handling: the cold path would have died the same way
        opts.log(`request ${got.request.program} ${got.request.argv.join(' ')} failed: ${(e as Error).stack ?? String(e)}`);
        const i = got.request.targetFds.indexOf(2);
        if (i >= 0) try { fs.writeSync(got.fds[i], `${got.request.program}: ${(e as Error).message}\n`); } catch { /* client gone */ }
        status = 1;
      }
      // our copies of the client's descriptors close before EXIT, so a reader of its stdout sees EOF with it
      closeAll(got.fds);
      got.fds.length = 0;
      reply(conn, exitFrame(status));
    } finally {
      closeAll(got.fds);
    }
  };

  server.on('connection', (conn) => {
    inFlight++;
    armIdle();
    conn.on('error', () => undefined); // a client that went away mid-reply
    handle(conn).catch((e: unknown) => {
      opts.log(`connection failed: ${(e as Error).stack ?? String(e)}`);
      conn.destroy();
    }).finally(() => {
      inFlight--;
      armIdle();
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // created 0600 (no window where others may connect), chmod'ed again in case the umask was ignored
    const umask = process.umask(0o177);
    server.listen(sock, () => {
      process.umask(umask);
      server.off('error', reject);
      resolve();
    });
  });
  fs.chmodSync(sock, 0o600);
  const onSignal = (sig: NodeJS.Signals): void => stop(sig);
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  opts.log(`serving ${root} (pid ${process.pid}, build ${buildId ?? 'none'})`);
  armIdle();
  await done;
  process.off('SIGTERM', onSignal);
  process.off('SIGINT', onSignal);
  if (idleTimer) clearTimeout(idleTimer);
  try { fs.unlinkSync(pidPath(root)); } catch { /* gone */ }
  fs.closeSync(pidFd);
}
