// A process as /proc shows it, for the big-table tests and benches: its CPU time, its memory, and the
// routes of the network namespace it runs in (read through /proc/<pid>/net: no exec, no listing).
import * as fs from 'node:fs';

/** the kernel's clock ticks per second, the unit of /proc/<pid>/stat's times */
export const CLK_TCK = 100;

/** utime + stime of a process, in clock ticks */
export function cpuTicks(pid: number): number {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(f[11]) + Number(f[12]);
}

/** VmRSS and VmHWM (peak) of a process, in kB */
export function memKb(pid: number): { rss: number; hwm: number } {
  const s = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string): number => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(s)?.[1] ?? NaN);
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

/** prefixes in the main table of the namespace `pid` lives in, from the kernel's trie statistics: cheap, where a listing of 1M routes costs seconds */
export function mainPrefixes(pid: number): number {
  const out = fs.readFileSync(`/proc/${pid}/net/fib_triestat`, 'utf8');
  return Number(/Main:[\s\S]*?Prefixes:\s+(\d+)/.exec(out)?.[1] ?? NaN);
}
