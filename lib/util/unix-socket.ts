// What Node's net.Socket does not expose for a unix socket: its descriptor (for recvmsg / sendmsg and
// getsockopt through the addon) and the credentials of the process at the other end.
import type * as net from 'node:net';
import { native } from '../sys/native';

/** The descriptor libuv holds for a connected unix socket (libuv keeps it; callers only use it). */
export function socketFd(s: net.Socket): number {
  const fd = (s as unknown as { _handle?: { fd?: number } })._handle?.fd;
  if (typeof fd !== 'number' || fd < 0) throw new Error('unix socket has no descriptor');
  return fd;
}

/** pid, uid and gid of the peer as they were at connect() (SO_PEERCRED). */
export function peerCred(s: net.Socket): { pid: number; uid: number; gid: number } {
  return native().peerCred(socketFd(s));
}
