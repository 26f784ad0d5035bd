// Sysctls under /proc/sys/net for a given netns. The kernel picks the netns of the thread that opens the
// file, so we open and write synchronously with the main thread inside (see netns.ts).
import fs = require('node:fs');
import { withNetns } from './netns';

function file(key: string): string {
  // accept "net.ipv4.ip_forward" and "net/ipv4/ip_forward"; interface names may contain dots, so only
  // the dotted form with no slash is converted
  const rel = key.includes('/') ? key : key.replace(/\./g, '/');
  if (!rel.startsWith('net/') || rel.includes('..')) throw new Error(`sysctl ${key}: only net.* keys are per network namespace`);
  return `/proc/sys/${rel}`;
}

export function writeSysctl(key: string, value: string, netns?: string): void {
  const write = (): void => fs.writeFileSync(file(key), value);
  if (netns === undefined) write();
  else withNetns(netns, write);
}

export function readSysctl(key: string, netns?: string): string {
  const read = (): string => fs.readFileSync(file(key), 'utf8').trim();
  return netns === undefined ? read() : withNetns(netns, read);
}
