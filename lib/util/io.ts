// Output for CLI commands. Writing through fd 1 and 2 directly: touching process.stdout/stderr loads
// Node's whole stream stack, a cost every short command would pay at start-up.
// The berth server (lib/server/) runs the same commands for many clients at once: it installs a router
// that gives each request its own descriptors, environment and working directory; without one (the cold
// path) they are this process's.
import fs = require('node:fs');

export interface Stdio {
  in: number;
  out: number;
  err: number;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

// On globalThis: the CLI bundle (dist/cli/berth.js) carries its own copy of this module, and the server
// and the commands left outside the bundle load tsc's.
const ROUTER = Symbol.for('berth.stdio-router');
type Router = () => Stdio | undefined;
const slot = globalThis as unknown as Record<typeof ROUTER, Router | undefined>;

/** The server's hook: `current` returns the running request's stdio, or undefined outside a request. */
export function routeStdio(current: Router): void {
  slot[ROUTER] = current;
}

const current = (): Stdio | undefined => slot[ROUTER]?.();

function writeAll(fd: number, text: string): void {
  const buf = Buffer.from(text);
  for (let off = 0; off < buf.length; ) {
    try {
      off += fs.writeSync(fd, buf, off);
    } catch (e) {
      // a non-blocking pipe that is full: wait until it drains
      if ((e as { code?: string }).code !== 'EAGAIN') throw e;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
    }
  }
}

export const out = (text: string): void => writeAll(current()?.out ?? 1, text);
export const err = (text: string): void => writeAll(current()?.err ?? 2, text);
/** The descriptor to read the command's stdin from. */
export const stdinFd = (): number => current()?.in ?? 0;
/** The command's environment. */
export const env = (): NodeJS.ProcessEnv => current()?.env ?? process.env;
/** The command's working directory. */
export const cwd = (): string => current()?.cwd ?? process.cwd();
