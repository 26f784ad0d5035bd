// On-demand benchmark (not a CI gate): the BGP agent's periodic FIB resync (FibSync.reconcile against a
// fresh kernel dump) at a big table, as memory and time. N routes (default 500,000) of protocol 186 are
// installed in a scratch namespace this process creates and deletes (berth-resync-<pid>); a child process in
// it builds a Loc-RIB of them, loads the kernel (the agent's first reconcile), one route is deleted by hand,
// then the resync that puts it back is measured: its peak RSS (VmHWM reset through /proc/self/clear_refs
// first), its wall time and the event loop's longest stall; beside them the RSS with the Loc-RIB alone and
// the peak of the first reconcile. V8 keeps what a dump's burst grew the heap to, so the peaks are what
// the agent holds from then on. Each build given runs RUNS times in turn; medians printed.
// Run (root): node dist/bench/bgp-resync.js [N] [dist dir to compare, e.g. /work/main/dist]
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);

/** the i-th /24 from 32.0.0.0 */
const prefixOf = (i: number): string => `${32 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}.0/24`;
const GATEWAY = '10.255.0.2';

interface Sample { n: number; fixed: number; ms: number; ribKb: number; firstPeakKb: number; peakKb: number; maxStallMs: number }

function kb(field: string): number {
  return Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(fs.readFileSync('/proc/self/status', 'utf8'))?.[1] ?? NaN);
}

/** inside the namespace: a Loc-RIB of N routes (one shared attribute set, as a feed gives), then load and resync */
async function child(dist: string, n: number): Promise<void> {
  const { FibSync, NetlinkFib } = require(path.join(dist, 'lib/cni/bgp/fib')) as typeof import('../lib/cni/bgp/fib');
  const { monitorEventLoopDelay } = require('node:perf_hooks') as typeof import('node:perf_hooks');
  const source = { id: GATEWAY, address: GATEWAY, asn: 65000, routerId: GATEWAY, internal: false, rrClient: false, local: false };
  const attrs = { nextHop: GATEWAY };
  const best = new Map<string, import('../lib/cni/bgp/route').Route>();
  for (let i = 0; i < n; i++) { const prefix = prefixOf(i); best.set(prefix, { prefix, afi: 1, attrs, source }); }
  const lookup = (p: string): import('../lib/cni/bgp/route').Route | undefined => best.get(p);
  (globalThis as { gc?: () => void }).gc?.();
  const ribKb = kb('VmRSS');
  const fib = new FibSync(new NetlinkFib());
  // the agent's first reconcile: finds the kernel right and leaves FibSync's record of it
  const first = await fib.reconcile(best.values(), undefined, lookup);
  if (first !== 0) throw new Error(`first reconcile changed ${first} routes; the kernel should be right`);
  const firstPeakKb = kb('VmHWM');
  execFileSync('ip', ['route', 'del', prefixOf(n >> 1), 'proto', '186']);
  (globalThis as { gc?: () => void }).gc?.();
  fs.writeFileSync('/proc/self/clear_refs', '5'); // resets VmHWM to the current RSS
  const stalls = monitorEventLoopDelay({ resolution: 5 });
  stalls.enable();
  const t0 = process.hrtime.bigint();
  const fixed = await fib.reconcile(best.values(), undefined, lookup);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  stalls.disable();
  const s: Sample = { n, fixed, ms: Math.round(ms), ribKb, firstPeakKb, peakKb: kb('VmHWM'), maxStallMs: Math.round(stalls.max / 1e6) };
  fib.close();
  process.stdout.write(JSON.stringify(s) + '\n');
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function main(): void {
  if (process.getuid?.() !== 0) throw new Error('bgp-resync: run as root (it creates a network namespace)');
  const n = Number(process.argv[2] ?? 500_000);
  const builds = [path.resolve(__dirname, '..'), ...process.argv.slice(3).map((d) => path.resolve(d))];
  const ns = `berth-resync-${process.pid}`;
  const ip = (...args: string[]): void => { execFileSync('ip', ['-n', ns, ...args], { stdio: 'inherit' }); };
  execFileSync('ip', ['netns', 'add', ns]);
  const cleanup = (): void => { spawnSync('ip', ['netns', 'del', ns]); };
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => { cleanup(); process.exit(130); });
  try {
    ip('link', 'add', 'up0', 'type', 'veth', 'peer', 'name', 'up1');
    ip('link', 'set', 'up0', 'up');
    ip('link', 'set', 'up1', 'up');
    ip('addr', 'add', '10.255.0.1/24', 'dev', 'up0');
    const t0 = Date.now();
    const lines: string[] = [];
    for (let i = 0; i < n; i++) lines.push(`route add ${prefixOf(i)} via ${GATEWAY} proto 186`);
    execFileSync('ip', ['-n', ns, '-batch', '-'], { input: lines.join('\n') + '\n', maxBuffer: 1 << 30 });
    process.stderr.write(`${n} routes installed in ${Date.now() - t0} ms\n`);
    const samples = new Map<string, Sample[]>(builds.map((b) => [b, []]));
    for (let run = 0; run < RUNS; run++) {
      for (const b of builds) {
        const out = execFileSync('ip', ['netns', 'exec', ns, process.execPath, '--expose-gc', __filename, '--child', b, String(n)], { encoding: 'utf8', maxBuffer: 1 << 20 });
        const s = JSON.parse(out.trim().split('\n').pop()!) as Sample;
        if (s.fixed !== 1) throw new Error(`${b}: the resync fixed ${s.fixed} routes, expected the 1 deleted by hand`);
        samples.get(b)!.push(s);
        process.stderr.write(`${b}: ${JSON.stringify(s)}\n`);
      }
    }
    console.log(`resync of ${n} routes (median of ${RUNS})`);
    console.log('build | RSS with the Loc-RIB MB | first reconcile peak MB | resync peak MB | resync ms | longest loop stall ms');
    for (const [b, ss] of samples) {
      const mb = (x: number): string => (x / 1024).toFixed(0);
      console.log(`${b} | ${mb(median(ss.map((s) => s.ribKb)))} | ${mb(median(ss.map((s) => s.firstPeakKb)))} | ${mb(median(ss.map((s) => s.peakKb)))} | ${median(ss.map((s) => s.ms))} | ${median(ss.map((s) => s.maxStallMs))}`);
    }
  } finally {
    cleanup();
  }
}

if (process.argv[2] === '--child') void child(process.argv[3], Number(process.argv[4]));
else main();
