// A small benchmark harness: runs commands (or async functions) in turn, A B A B ..., after a warm-up,
// and reports medians, p95 and the ratio of medians, so a drifting machine affects both sides alike.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface Stats {
  name: string;
  runs: number;
  median: number;
  p95: number;
  min: number;
}

export function stats(name: string, ms: number[]): Stats {
  const s = [...ms].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * (s.length - 1)))];
  return { name, runs: s.length, median: at(0.5), p95: at(0.95), min: s[0] };
}

/**
 * The environment of the clients berth serves (containerd, podman, CNI runtimes): this one without
 * NODE_EXTRA_CA_CERTS, which makes every Node start read a CA bundle (+30-40 ms here), plus `extra`.
 */
export function clientEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  delete env.NODE_EXTRA_CA_CERTS;
  return env;
}

/** Wall-clock milliseconds of one whole process run; throws if it fails. */
export function timeCommand(cmd: string[], opts: { expectStatus?: number; env?: NodeJS.ProcessEnv } = {}): number {
  const start = process.hrtime.bigint();
  const r = spawnSync(cmd[0], cmd.slice(1), { stdio: 'ignore', env: opts.env ?? clientEnv() });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== (opts.expectStatus ?? 0)) throw new Error(`${cmd.join(' ')}: exit ${r.status} ${r.signal ?? ''}`);
  return ms;
}

/**
 * The CPU time (user + system, ms) of every child this process has waited for, its descendants included
 * (/proc/self/stat cutime + cstime, in 10 ms ticks): the difference around a batch of runs, divided by their
 * number, is a per-call CPU cost that a loaded machine inflates far less than wall time.
 */
export function childCpuMs(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  // the fields after the command name, which is in parentheses and may hold spaces
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[13]) + Number(f[14])) * 10; // cutime, cstime: fields 16 and 17 of proc(5)
}

/** Runs every case once per round, `rounds` times after `warmup` rounds. */
export function compare(cases: { name: string; run: () => number }[], rounds: number, warmup = 2): Stats[] {
  const times = cases.map(() => [] as number[]);
  for (let r = 0; r < warmup + rounds; r++) {
    cases.forEach((c, i) => {
      const ms = c.run();
      if (r >= warmup) times[i].push(ms);
    });
  }
  return cases.map((c, i) => stats(c.name, times[i]));
}

export function report(rows: Stats[], baseline?: string): void {
  const base = rows.find((r) => r.name === baseline);
  for (const r of rows) {
    const ratio = base && base !== r ? `  ratio ${(r.median / base.median).toFixed(2)}x of ${base.name}` : '';
    console.log(`${r.name.padEnd(34)} median ${r.median.toFixed(1).padStart(7)} ms  p95 ${r.p95.toFixed(1).padStart(7)} ms  min ${r.min.toFixed(1).padStart(7)} ms  (n=${r.runs})${ratio}`);
  }
}
