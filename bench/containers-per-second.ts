// Containers per second: the same busybox bundle's /bin/true, 100 times sequentially and 100 times with 8 in
// flight, three ways in one run: berth's library (run() in this Node process), the berth CLI, and runc run
// (Debian runc). Prints containers/s, median and p95 latency per container, the ratios to runc, and the
// CLI's start-up overhead over a bare `node -e 0`. Each row starts on a quiet machine (settle()). Run as root:
//   node dist/bench/containers-per-second.js [count] [inflight]
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { run } from '../lib/runtime/container';
import { baseSpec, makeRootfs } from '../test/helpers/bundle';
import { compare, report, stats, timeCommand, type Stats } from './harness';

const count = Number(process.argv[2] ?? 100);
const inflight = Number(process.argv[3] ?? 8);
const berth = path.resolve(__dirname, '..', '..', 'bin', 'berth');
// BERTH_BASELINE=<another checkout's bin/berth>: its CLI rows too, in the same run (before/after)
const baseline = process.env.BERTH_BASELINE;
const RUNC = '/usr/sbin/runc';

interface Result { name: string; perSecond: number; latency: Stats; failures: string[] }

/** Runs `one(i)` count times with `width` in flight; each container's latency and the whole wall time. */
async function measure(name: string, width: number, one: (i: number) => Promise<void>): Promise<Result> {
  const ms: number[] = [];
  const failures: string[] = [];
  let next = 0;
  const start = process.hrtime.bigint();
  const worker = async () => {
    for (let i = next++; i < count; i = next++) {
      const t0 = process.hrtime.bigint();
      // a failed container is reported with the row, not hidden: it counts in the wall time, not in latency
      const ok = await one(i).then(() => true, (e: Error) => { failures.push(e.message); return false; });
      if (ok) ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
  };
  await Promise.all(Array.from({ length: width }, worker));
  const wall = Number(process.hrtime.bigint() - start) / 1e9;
  return { name, perSecond: (count - failures.length) / wall, latency: stats(name, ms), failures };
}

/** Busy share of all CPUs over `ms` (from /proc/stat: everything but idle and iowait). */
async function busyShare(ms: number): Promise<number> {
  const sample = () => {
    const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const total = f.reduce((a, b) => a + b, 0);
    return { total, idle: f[3] + f[4] };
  };
  const a = sample();
  await new Promise((r) => setTimeout(r, ms));
  const b = sample();
  return b.total === a.total ? 0 : 1 - (b.idle - a.idle) / (b.total - a.total);
}

/**
 * Waits (at most 10 s) until the machine is quiet: a row leaves work behind in the kernel (network
 * namespaces are destroyed by a worker after their last process exits), which would otherwise be billed
 * to the next row.
 */
async function settle(): Promise<void> {
  for (let quiet = 0, i = 0; quiet < 2 && i < 50; i++) quiet = (await busyShare(200)) < 0.15 ? quiet + 1 : 0;
}

/** A whole process run without blocking the event loop (so several can be in flight). */
function command(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    p.stderr.on('data', (d: Buffer) => { stderr += d; });
    p.once('error', reject);
    p.once('close', (code, sig) => (code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(' ')}: exit ${code} ${sig ?? ''}: ${stderr.trim()}`))));
  });
}

function print(rows: Result[], baseline: Result): void {
  for (const r of rows) {
    const ratio = r === baseline ? '' : `  ${(r.perSecond / baseline.perSecond).toFixed(2)}x ${baseline.name}'s containers/s`;
    console.log(`${r.name.padEnd(26)} ${r.perSecond.toFixed(1).padStart(7)} containers/s  median ${r.latency.median.toFixed(1).padStart(6)} ms  p95 ${r.latency.p95.toFixed(1).padStart(6)} ms${ratio}`);
    if (r.failures.length) console.log(`  ${r.failures.length} FAILED, first: ${r.failures[0]}`);
  }
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-cps-'));
  const devnull = fs.openSync('/dev/null', 'r+');
  try {
    makeRootfs(path.join(dir, 'rootfs'));
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(baseSpec(['/bin/true'])));
    const libRoot = path.join(dir, 'lib-state');
    const cliRoot = path.join(dir, 'cli-state');
    const runcRoot = path.join(dir, 'runc-state');
    const lib = async (i: number, tag: string) => {
      const code = await run({ id: `lib-${tag}-${i}`, bundle: dir, root: libRoot, stdio: [devnull, devnull, devnull] });
      if (code !== 0) throw new Error(`library run exited ${code}`);
    };
    const cli = (i: number, tag: string) => command(berth, ['--root', cliRoot, 'run', '--bundle', dir, `cli-${tag}-${i}`]);
    const runc = (i: number, tag: string) => command(RUNC, ['--root', runcRoot, 'run', '--bundle', dir, `runc-${tag}-${i}`]);

    // warm-up: page cache, the addon, the waiter thread, lazily loaded modules
    for (let i = 0; i < 5; i++) { await lib(i, 'warm'); await cli(i, 'warm'); await runc(i, 'warm'); }

    console.log(`# ${os.cpus().length} cores, ${os.cpus()[0].model}, kernel ${os.release()}, load ${os.loadavg()[0].toFixed(1)}, node ${process.version}`);
    console.log(`# runc: ${execFileSync(RUNC, ['--version'], { encoding: 'utf8' }).split('\n')[0]}; ${count} x /bin/true per row`);
    for (const width of [1, inflight]) {
      const tag = `w${width}`;
      console.log(`\n## ${width === 1 ? 'sequential' : `${width} in flight`}`);
      const rows: Result[] = [];
      await settle();
      rows.push(await measure('runc run', width, (i) => runc(i, tag)));
      await settle();
      rows.push(await measure('berth library run()', width, (i) => lib(i, tag)));
      await settle();
      rows.push(await measure('berth run (CLI)', width, (i) => cli(i, tag)));
      if (baseline) {
        await settle();
        rows.push(await measure('baseline berth run (CLI)', width, (i) => command(baseline, ['--root', cliRoot, 'run', '--bundle', dir, `base-${tag}-${i}`])));
      }
      print(rows, rows[0]);
    }

    console.log('\n## CLI start-up');
    const startup = compare([
      { name: 'node -e 0', run: () => timeCommand([process.execPath, '-e', '0']) },
      { name: 'berth --version', run: () => timeCommand([berth, '--version']) },
      { name: 'berth run /bin/true', run: () => timeCommand([berth, '--root', cliRoot, 'run', '--bundle', dir, `cli-startup-${process.hrtime.bigint()}`]) },
      ...(baseline ? [
        { name: 'baseline berth --version', run: () => timeCommand([baseline, '--version']) },
        { name: 'baseline berth run /bin/true', run: () => timeCommand([baseline, '--root', cliRoot, 'run', '--bundle', dir, `base-startup-${process.hrtime.bigint()}`]) },
      ] : []),
    ], 20);
    report(startup, 'node -e 0');
    console.log(`# berth CLI overhead over node -e 0: --version ${(startup[1].median - startup[0].median).toFixed(1)} ms, run ${(startup[2].median - startup[0].median).toFixed(1)} ms`);
    for (const r of [libRoot, cliRoot, runcRoot]) {
      const left = fs.existsSync(r) ? fs.readdirSync(r) : [];
      if (left.length) console.log(`# WARNING: ${left.length} state entries left in ${r}`);
    }
  } finally {
    fs.closeSync(devnull);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => { console.error(e); process.exitCode = 1; });
