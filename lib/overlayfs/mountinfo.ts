// Reads /proc/self/mountinfo: is a path a mount point (in this process's mount namespace)?
import * as fs from 'node:fs';

/** mountinfo escapes space, tab, newline and backslash as \ooo octal */
function unescape(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
}

export function mountPoints(): string[] {
  return fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter(Boolean).map((l) => unescape(l.split(' ')[4]));
}

export function isMountPoint(p: string): boolean {
  return mountPoints().includes(p);
}
