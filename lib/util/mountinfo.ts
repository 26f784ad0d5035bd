// /proc/self/mountinfo as records (proc(5)): the fields berth reads, with the kernel's octal escapes undone.
import fs = require('node:fs');

export interface MountEntry {
  id: number;
  parent: number;
  /** major:minor of the filesystem */
  dev: string;
  /** the directory of that filesystem mounted here ("/" unless a bind of a subdirectory) */
  root: string;
  mountPoint: string;
}

/** mountinfo escapes space, tab, newline and backslash as \ooo octal */
const unescape = (s: string): string => s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));

export function parseMountinfo(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(' ');
    if (f.length < 5) continue;
    out.push({ id: Number(f[0]), parent: Number(f[1]), dev: f[2], root: unescape(f[3]), mountPoint: unescape(f[4]) });
  }
  return out;
}

export function readMountinfo(file = '/proc/self/mountinfo'): MountEntry[] {
  return parseMountinfo(fs.readFileSync(file, 'utf8'));
}

/** Is `p` a mount point in this process's mount namespace? */
export function isMountPoint(p: string): boolean {
  return readMountinfo().some((m) => m.mountPoint === p);
}
