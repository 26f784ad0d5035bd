// One container's cgroup lifecycle through lib/cgroups, as the library's run() does it: createCgroup (default
// placement <own>/berth/<id>, a memory and a pids limit), addProcess of a short-lived child, destroy once it
// has exited. Sequential, N times after a warm-up. Reports per container: the main thread's CPU time (what
// limits containers per second from one Node process), the whole process's CPU (main thread + libuv pool)
// and wall time of the three calls; the child's spawn and exit are outside the measured windows.
// BERTH_CGROUPS_BEFORE=<dir of an older build's lib/cgroups> runs that one too, alternating, for a before/after
// in one run. Then joins: all hierarchies in one batch against one batch per hierarchy in parallel. As root:
//   node dist/bench/cgroups-lifecycle.js [count]
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as cgroups from '../lib/cgroups';
import { Batch } from '../lib/cgroups/batch';
import { distinctDirs } from '../lib/cgroups/paths';
import { stats } from './harness';

type Cgroups = typeof cgroups;

const count = Number(process.argv[2] ?? 200);
const warmup = 20;

/**
 * CPU nanoseconds run by this process's threads other than the main one (libuv's pool, V8's helpers). A
 * sleeping thread's schedstat is exact, but the running main thread's own is only updated at ticks (4 ms
 * here): the main thread's time is the process's exact total minus this.
 */
function otherThreadsNs(): number {
  let ns = 0;
  for (const tid of fs.readdirSync('/proc/self/task')) {
    if (Number(tid) === process.pid) continue;
    try {
      ns += Number(fs.readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      /* the thread exited */
    }
  }
  return ns;
}
const processUs = (): number => {
  const u = process.cpuUsage();
  return u.user + u.system;
};
const nowMs = (): number => Number(process.hrtime.bigint()) / 1e6;

interface Sample { mainMs: number; processMs: number; wallMs: number }

/** Adds the time spent in `fn` to the sample; the other threads are read outside the process's window. */
async function timed(s: Sample, fn: () => Promise<void>): Promise<void> {
  const o0 = otherThreadsNs();
  const p0 = processUs();
  const w0 = nowMs();
  await fn();
  s.wallMs += nowMs() - w0;
  const p1 = processUs();
  const o1 = otherThreadsNs();
  s.processMs += (p1 - p0) / 1e3;
  s.mainMs += ((p1 - p0) * 1e3 - (o1 - o0)) / 1e6;
}

/** A shell that waits for a line: alive until `done` is called, then reaped. */
async function waitingChild(): Promise<{ child: ChildProcess; done: () => Promise<void> }> {
  const child = spawn('/bin/sh', ['-c', 'read _go'], { stdio: ['pipe', 'ignore', 'ignore'] });
  const exited = new Promise((r) => child.on('exit', r));
  await new Promise((r) => child.on('spawn', r));
  return { child, done: async () => { child.stdin?.end('\n'); await exited; } };
}

async function one(lib: Cgroups, id: string): Promise<Sample> {
  const s: Sample = { mainMs: 0, processMs: 0, wallMs: 0 };
  const { child, done } = await waitingChild(); // before the clock runs
  let h: cgroups.CgroupHandle | undefined;
  try {
    await timed(s, async () => {
      h = await lib.createCgroup({ containerId: id, resources: { memory: { limit: 64 << 20 }, pids: { limit: 64 } } });
      await lib.addProcess(h, child.pid as number);
    });
  } finally {
    await done(); // reaped: the cgroup is empty again
  }
  await timed(s, () => lib.destroy(h!));
  return s;
}

function row(samples: Sample[], name: string, pick: (s: Sample) => number): void {
  const st = stats(name, samples.map(pick));
  const mean = samples.reduce((a, s) => a + pick(s), 0) / samples.length;
  console.log(`  ${name.padEnd(20)} mean ${mean.toFixed(3)} ms  median ${st.median.toFixed(3)} ms  p95 ${st.p95.toFixed(3)} ms  min ${st.min.toFixed(3)} ms`);
}

/** create + addProcess + destroy for each library, alternating A B A B so drift hits both alike. */
async function lifecycle(libs: [string, Cgroups][]): Promise<void> {
  const samples = libs.map(() => [] as Sample[]);
  for (let i = 0; i < warmup + count; i++) {
    for (const [k, [, lib]] of libs.entries()) {
      const s = await one(lib, `bench-cg-${process.pid}-${k}-${i}`);
      if (i >= warmup) samples[k].push(s);
    }
  }
  for (const [k, [name]] of libs.entries()) {
    console.log(`cgroups lifecycle (create + addProcess + destroy), ${name}, ${count} after ${warmup} warm-up, per container:`);
    row(samples[k], 'main-thread CPU', (s) => s.mainMs);
    row(samples[k], 'process CPU', (s) => s.processMs);
    row(samples[k], 'wall', (s) => s.wallMs);
  }
}

/** Writing a pid to every hierarchy's cgroup.procs: one batch, or one batch per hierarchy at once. */
async function joins(): Promise<void> {
  const a = await cgroups.createCgroup({ containerId: `bench-join-a-${process.pid}` });
  const b = await cgroups.createCgroup({ containerId: `bench-join-b-${process.pid}` });
  const { child, done } = await waitingChild();
  const pid = String(child.pid);
  const oneBatch = async (dirs: string[]) => {
    const batch = new Batch();
    for (const d of dirs) batch.write(d, 'cgroup.procs', pid);
    await batch.runOrThrow();
  };
  const perDir = (dirs: string[]) => Promise.all(dirs.map((d) => oneBatch([d])));
  const ways: [string, (dirs: string[]) => Promise<unknown>][] = [['one batch', oneBatch], ['one batch per hierarchy', perDir]];
  const samples = ways.map(() => [] as Sample[]);
  let joined = 0;
  try {
    // each join moves the child to the other cgroup, so every write migrates it
    for (let i = 0; i < warmup + count; i++) {
      for (const [k, [, join]] of ways.entries()) {
        const s: Sample = { mainMs: 0, processMs: 0, wallMs: 0 };
        // apart, as in a container's life: back-to-back writes share the RCU grace period of the first
        await new Promise((r) => setTimeout(r, 10));
        const to = joined++ % 2 ? a : b;
        await timed(s, async () => { await join(distinctDirs(to.paths)); });
        if (i >= warmup) samples[k].push(s);
      }
    }
  } finally {
    await done();
    await cgroups.destroy(a);
    await cgroups.destroy(b);
  }
  for (const [k, [name]] of ways.entries()) {
    console.log(`join ${distinctDirs(a.paths).length} hierarchies, ${name}, per join:`);
    row(samples[k], 'main-thread CPU', (s) => s.mainMs);
    row(samples[k], 'process CPU', (s) => s.processMs);
    row(samples[k], 'wall', (s) => s.wallMs);
  }
}

async function main(): Promise<void> {
  const libs: [string, Cgroups][] = [['this build', cgroups]];
  const before = process.env.BERTH_CGROUPS_BEFORE;
  if (before) libs.unshift([`before (${before})`, require(before) as Cgroups]);
  await lifecycle(libs);
  await joins();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
