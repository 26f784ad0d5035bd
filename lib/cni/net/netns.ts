// Network namespaces by path (/run/netns/NAME, /proc/PID/ns/net). setns moves only the main thread, so:
// - a netlink socket created while inside stays bound to that netns after we return (the kernel fixes a
//   socket's netns at creation);
// - /proc/sys/net opened synchronously while inside shows that netns's sysctls;
// - asynchronous fs calls run on libuv's pool threads, which never move: use the *Sync variants inside;
// - a child process spawned while inside starts in that netns.
import fs = require('node:fs');
import { native, CLONE } from '../../sys/native';
import { Rtnl } from './nl/socket';

export class NetnsError extends Error {
  constructor(readonly path: string, readonly code: string, message: string) {
    super(message);
    this.name = 'NetnsError';
  }
}

const NSFS_MAGIC = 0x6e736673;
// O_NONBLOCK: a FIFO (or a device) named as a netns must not block the open until a writer comes;
// O_NOCTTY: nor may a terminal become ours
const OPEN_FLAGS = fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | fs.constants.O_NOCTTY;

/**
 * An fd of the namespace at `path`, checked to be a namespace: a file of the nsfs file system (fstatfs
 * through /proc/self/fd, which names the open file, not the path again). A FIFO, a regular file or a
 * directory is refused here. Which kind of namespace: /proc/PID/ns/X opened directly reads "type:[inode]"
 * and anything but net is refused here; a bind mount (/run/netns/NAME) reads as its path, and setns or
 * IFLA_NET_NS_FD, which check the type themselves, refuse a mount or pid namespace with EINVAL.
 */
export function openNetns(path: string): number {
  let fd: number;
  try {
    fd = fs.openSync(path, OPEN_FLAGS);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'EIO';
    throw new NetnsError(path, code, `cannot open network namespace ${path}: ${code}`);
  }
  let why: string | undefined;
  try {
    const self = `/proc/self/fd/${fd}`;
    if (fs.statfsSync(self).type !== NSFS_MAGIC) why = 'not a namespace file';
    else {
      const type = /^([a-z_]+):\[\d+\]$/.exec(fs.readlinkSync(self))?.[1];
      if (type !== undefined && type !== 'net') why = `a ${type} namespace`;
    }
  } catch (e) {
    why = `cannot inspect it: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`;
  }
  if (why) {
    fs.closeSync(fd);
    throw new NetnsError(path, 'EINVAL', `${path} is not a network namespace (${why})`);
  }
  return fd;
}

export function netnsExists(path: string): boolean {
  try {
    fs.closeSync(openNetns(path));
    return true;
  } catch {
    return false;
  }
}

function enter(fd: number, path: string): void {
  // outside the try: a missing addon is not a bad netns path
  const sys = native();
  try {
    sys.setns(fd, CLONE.NEWNET);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'EINVAL';
    throw new NetnsError(path, code, `${path} is not a network namespace (setns: ${code})`);
  }
}

/**
 * Runs fn with the main thread inside the netns at `path` and always moves it back.
 * Async work is allowed, but everything else on the event loop runs inside too until fn settles:
 * keep it short, and do not run two withNetns concurrently.
 */
export function withNetns<T>(path: string, fn: () => T): T {
  const home = fs.openSync('/proc/thread-self/ns/net', 'r');
  const target = openNetns(path);
  try {
    enter(target, path);
  } catch (e) {
    fs.closeSync(home);
    throw e;
  } finally {
    fs.closeSync(target);
  }
  const back = (): void => {
    try {
      native().setns(home, CLONE.NEWNET);
    } finally {
      fs.closeSync(home);
    }
  };
  let result: T;
  try {
    result = fn();
  } catch (e) {
    back();
    throw e;
  }
  if (result instanceof Promise) return result.finally(back) as T;
  back();
  return result;
}

/** A netlink socket bound to the netns at `path` (the caller's own when path is undefined). */
export function openRtnl(path?: string): Rtnl {
  return path === undefined ? new Rtnl() : withNetns(path, () => new Rtnl());
}

/** Identity of a netns (device and inode of its nsfs file), to tell whether two paths name the same one. */
export function netnsId(path: string): string {
  const st = fs.statSync(path);
  return `${st.dev}:${st.ino}`;
}
