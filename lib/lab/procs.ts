// Processes the lab started (agents, etcd, test servers): found by the network namespace they live in,
// stopped by PID, SIGTERM first.
import * as fs from 'node:fs';

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Inode of a namespace file, to compare with /proc/PID/ns/net. */
export function nsInode(file: string): number | undefined {
  try {
    return fs.statSync(file).ino;
  } catch {
    return undefined;
  }
}

/** PIDs whose network namespace is one of `inodes` (processes inside the lab). */
export function pidsInNamespaces(inodes: Set<number>): number[] {
  const out: number[] = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d) || Number(d) === process.pid) continue;
    const ino = nsInode(`/proc/${d}/ns/net`);
    if (ino !== undefined && inodes.has(ino)) out.push(Number(d));
  }
  return out;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** SIGTERM, then SIGKILL after graceMs; resolves when all are gone. */
export async function stopPids(pids: number[], graceMs = 3000, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  const live = pids.filter(alive);
  for (const p of live) {
    try { process.kill(p, signal); } catch { /* already gone */ }
  }
  const end = Date.now() + graceMs;
  while (live.some(alive) && Date.now() < end) await sleep(20);
  for (const p of live.filter(alive)) {
    try { process.kill(p, 'SIGKILL'); } catch { /* already gone */ }
  }
  while (live.some((p) => alive(p) && !zombie(p))) await sleep(20);
}

function zombie(pid: number): boolean {
  try {
    return /^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}
