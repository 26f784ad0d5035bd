// A CNI plugin verb in the server: the same callPlugin as the plugin binary's process (lib/cni/skel.ts),
// on the request's environment and descriptors, so results are the same bytes.
import fs = require('node:fs');
import path = require('node:path');
import { PLUGINS } from '../cni/plugins/launch';
import { native } from '../sys/native';
import { whenReadable } from '../sys/readable';
import type { Plugin } from '../cni/skel';
import type { Stdio } from '../util/io';

export function isPlugin(program: string): boolean {
  return Object.hasOwn(PLUGINS, program);
}

/** All of `fd` until end of file, read on libuv's threadpool so a slow writer stalls no other request. */
function readAll(fd: number, chunks: Buffer[] = []): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const next = (): void => {
      const buf = Buffer.allocUnsafe(65536);
      fs.read(fd, buf, 0, buf.length, null, (e, n) => {
        if (e) {
          // a closed stdin is an empty config, which the parser reports (as the cold path does)
          if (e.code === 'EOF' || e.code === 'EBADF') return resolve(Buffer.concat(chunks));
          if (e.code === 'EAGAIN') return void whenReadable(fd).then(next, reject); // a non-blocking description
          return reject(e);
        }
        if (n === 0) return resolve(Buffer.concat(chunks));
        chunks.push(buf.subarray(0, n));
        next();
      });
    };
    next();
  });
}

const O_ACCMODE = 3;

/** True when the descriptor was opened for reading (its flags in /proc/self/fdinfo, octal). */
function readable(fd: number): boolean {
  const flags = /^flags:\s*([0-7]+)$/m.exec(fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'latin1'))?.[1];
  return flags !== undefined && (parseInt(flags, 8) & O_ACCMODE) !== fs.constants.O_WRONLY;
}

/**
 * A pipe's whole content without a threadpool thread: the pipe opened again through /proc with O_NONBLOCK,
 * a description of our own, so the client's keeps its flags. Reads what is there (the usual case: a
 * runtime writes the config and closes); while the writer is still at it, waits for the pipe to poll
 * readable (the addon's watchReadable) rather than block a read on libuv's threadpool, where four writers
 * that never close would stall every request's file work. A write-only stdin is left to readAll (EBADF:
 * an empty config).
 */
function readPipe(fd: number): Buffer | Promise<Buffer> {
  const st = fs.fstatSync(fd);
  if (st.isSocket()) return readSocket(fd);
  if (!st.isFIFO() || !readable(fd)) return readAll(fd);
  let own: number;
  try {
    own = fs.openSync(`/proc/self/fd/${fd}`, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch {
    return readAll(fd);
  }
  let content: Buffer | Promise<Buffer>;
  try {
    content = takeToEnd(own, readAvailable);
  } catch (e) {
    fs.closeSync(own);
    throw e;
  }
  if (!(content instanceof Promise)) {
    fs.closeSync(own);
    return content;
  }
  return content.finally(() => fs.closeSync(own));
}

/**
 * All of a non-blocking fd through `take` (which adds what is there to chunks, true at the end): at once
 * when the writer is done, else taken each time the fd polls readable, with no thread waiting.
 */
function takeToEnd(fd: number, take: (fd: number, chunks: Buffer[]) => boolean, chunks: Buffer[] = []): Buffer | Promise<Buffer> {
  if (take(fd, chunks)) return Buffer.concat(chunks);
  return (async () => {
    do await whenReadable(fd); while (!take(fd, chunks));
    return Buffer.concat(chunks);
  })();
}

/** Reads a non-blocking fd into `chunks` until it would block (false) or ends (true). */
function readAvailable(fd: number, chunks: Buffer[]): boolean {
  for (;;) {
    const buf = Buffer.allocUnsafe(65536);
    let n: number;
    try {
      n = fs.readSync(fd, buf, 0, buf.length, null);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EAGAIN') return false;
      throw e;
    }
    if (n === 0) return true;
    chunks.push(buf.subarray(0, n));
  }
}

type PluginModule = { plugin: Plugin; ABOUT: string };
/** loaded on a program's first request; kept, since require's path resolution costs each call again */
const loaded = new Map<string, PluginModule>();

function pluginModule(program: string): PluginModule {
  let m = loaded.get(program);
  if (!m) loaded.set(program, (m = require(path.join('..', 'cni', PLUGINS[program])) as PluginModule));
  return m;
}

/**
 * readPipe for a socket (what the test client passes): non-blocking receives, waiting for the socket to
 * poll readable between them (no threadpool thread held). Descriptors riding along are closed, as read(2)
 * would drop them.
 */
function readSocket(fd: number): Buffer | Promise<Buffer> {
  try {
    return takeToEnd(fd, receiveAvailable); // its first take is synchronous: a throw comes here
  } catch {
    return readAll(fd); // not a socket recvmsg takes: the threadpool read says what it is
  }
}

/** Receives into `chunks` until the socket would block (false) or ends (true). */
function receiveAvailable(fd: number, chunks: Buffer[]): boolean {
  for (;;) {
    const got = native().unixRecv(fd, 65536);
    if (!got) return false;
    for (const extra of got.fds) fs.closeSync(extra);
    if (got.data.length === 0) return true;
    chunks.push(got.data);
  }
}

export async function runPluginRequest(program: string, stdio: Stdio): Promise<number> {
  const skel = require('../cni/skel') as typeof import('../cni/skel');
  const { plugin, ABOUT } = pluginModule(program);
  return skel.callPlugin(plugin, ABOUT, {
    env: stdio.env,
    // a terminal is no config (someone trying the plugin by hand through the front-end)
    readStdin: () => (skel.isTerminal(stdio.in) ? Buffer.alloc(0) : readPipe(stdio.in)),
    stdout: (t) => skel.writeFd(stdio.out, t),
    stderr: (t) => skel.writeFd(stdio.err, t),
  });
}
