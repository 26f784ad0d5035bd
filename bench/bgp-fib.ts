// On-demand benchmark (not a CI gate): a feeder BIRD announces N prefixes (default 100,000) over eBGP to
// berth's speaker and to a receiving BIRD at the same moment; we time until berth has all of them in its
// namespace's kernel (FibSync, protocol 186) against BIRD having them in its table and in its kernel.
// Both sessions are Established before the feeder's static protocol is enabled, so both start together.
// Everything runs in three namespaces this process creates and deletes (berth-bgpfib-<pid>-*).
// Run (root): node dist/bench/bgp-fib.js [N]
// BENCH_MODE=rib: the speaker alone (no FIB): time to the whole table, peak RSS, idle CPU with the table
// loaded (5 s) and time to withdraw all, against the receiving BIRD (no kernel protocol) in the same run
// BERTH_BENCH_PROF=<file.cpuprofile>: a V8 CPU profile of berth's side from the first route to the last write
// (rib mode: from the first route to the last withdrawal); BERTH_BENCH_HEAP=<file.heapsnapshot>: rib mode
// writes a heap snapshot once the table is loaded (after the idle sample)
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const N = Number(process.argv[2] ?? 100_000);

const RIB_ONLY = process.env.BENCH_MODE === 'rib';
const IDLE_MS = 5000;

if (process.argv[2] === '--child') (RIB_ONLY ? ribChild : child)(Number(process.argv[3]));
else void main();

/** rib mode's berth side: one JSON line when the table is complete, idle CPU after IDLE_MS, one when all is withdrawn */
function ribChild(n: number): void {
  const bgp = require('../lib/cni/bgp') as typeof import('../lib/cni/bgp');
  let best = 0;
  let loaded = false;
  const prof = profiler(process.env.BERTH_BENCH_PROF);
  // RSS before any route: what "steady RSS per route" is counted from
  const baseRssKb = Math.round(process.memoryUsage().rss / 1024);
  const speaker = new bgp.BgpSpeaker({
    asn: 64512, routerId: '10.210.1.2', listen: { address: '10.210.1.2', port: 179 }, originate: [],
    peers: [{ address: '10.210.1.1', asn: 65000, holdTime: 90, connectRetryTime: 1, families: ['ipv4'], importPolicy: bgp.ACCEPT_ALL, exportPolicy: bgp.REJECT_ALL }],
    onBestChange: (changes) => {
      if (best === 0 && !loaded) prof?.start();
      for (const c of changes) best += (c.best ? 1 : 0) - (c.previous ? 1 : 0);
      if (best >= n && !loaded) {
        loaded = true;
        const ribAt = Date.now();
        const cpu0 = process.cpuUsage();
        setTimeout(() => {
          const c = process.cpuUsage(cpu0);
          const m = process.memoryUsage();
          const heap = process.env.BERTH_BENCH_HEAP;
          if (heap) (require('node:v8') as typeof import('node:v8')).writeHeapSnapshot(heap);
          process.stdout.write(JSON.stringify({ ribAt, rssKb: process.resourceUsage().maxRSS, idleCpuMs: Math.round((c.user + c.system) / 1000), baseRssKb, steadyRssKb: Math.round(m.rss / 1024), heapUsedKb: Math.round(m.heapUsed / 1024) }) + '\n');
        }, IDLE_MS);
      }
      if (loaded && best === 0) {
        const withdrawnAt = Date.now();
        void (prof?.stop() ?? Promise.resolve()).then(() => {
          process.stdout.write(JSON.stringify({ withdrawnAt, rssKb: process.resourceUsage().maxRSS }) + '\n');
          process.exit(0);
        });
      }
    },
  });
  void speaker.start();
}

/** CPU ms (utime + stime) and peak RSS (VmHWM, KB) of a process, from /proc */
function procStats(pid: number): { cpuMs: number; hwmKb: number; rssKb: number } {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  const hz = 100;
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string): number => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { cpuMs: ((Number(stat[11]) + Number(stat[12])) * 1000) / hz, hwmKb: kb('VmHWM'), rssKb: kb('VmRSS') };
}

/** berth's side, inside its namespace: a speaker feeding FibSync; prints timestamps as JSON. */
function child(n: number): void {
  const bgp = require('../lib/cni/bgp') as typeof import('../lib/cni/bgp');
  const fib = new bgp.FibSync(new bgp.NetlinkFib());
  let best = 0;
  let ribAt = 0;
  let firstAt = 0;
  let cpu0 = process.cpuUsage();
  const prof = profiler(process.env.BERTH_BENCH_PROF);
  const speaker = new bgp.BgpSpeaker({
    asn: 64512, routerId: '10.210.1.2', listen: { address: '10.210.1.2', port: 179 }, originate: [],
    peers: [{ address: '10.210.1.1', asn: 65000, holdTime: 90, connectRetryTime: 1, families: ['ipv4'], importPolicy: bgp.ACCEPT_ALL, exportPolicy: bgp.REJECT_ALL }],
    onBestChange: (changes) => {
      if (!firstAt) { firstAt = Date.now(); cpu0 = process.cpuUsage(); prof?.start(); }
      for (const c of changes) best += (c.best ? 1 : 0) - (c.previous ? 1 : 0);
      fib.update(changes);
      if (best >= n && !ribAt) {
        ribAt = Date.now();
        void fib.flush().then(async () => {
          const fibAt = Date.now();
          // CPU spent from the first route to the last kernel write: what the load on the machine cannot hide
          const cpu = process.cpuUsage(cpu0);
          const cpuMs = Math.round((cpu.user + cpu.system) / 1000);
          await prof?.stop();
          // counted afresh from the kernel, not from FibSync's own bookkeeping
          const { ours } = await new bgp.NetlinkFib().list();
          process.stdout.write(JSON.stringify({ firstAt, ribAt, fibAt, cpuMs, kernel: ours.length, errors: fib.errors.length, batches: fib.batches }) + '\n');
          process.exit(0);
        });
      }
    },
  });
  void speaker.start();
}

/** The inspector's CPU profiler around exactly the measured window (node --cpu-prof would cover start-up too). */
function profiler(file: string | undefined): { start(): void; stop(): Promise<void> } | undefined {
  if (!file) return undefined;
  const inspector = require('node:inspector') as typeof import('node:inspector');
  const session = new inspector.Session();
  session.connect();
  const post = (method: string): Promise<unknown> => new Promise((resolve, reject) => session.post(method, (e, r) => (e ? reject(e) : resolve(r))));
  return {
    start: () => { void post('Profiler.enable').then(() => post('Profiler.start')); },
    stop: async () => { const r = (await post('Profiler.stop')) as { profile: unknown }; fs.writeFileSync(file, JSON.stringify(r.profile)); },
  };
}

async function ribRun(n: number, t0: number, berthOut: () => string, berthDone: Promise<void>, feed: (c: string) => string, recv: (c: string) => string, birdPid: number, birdBaseKb: number): Promise<void> {
  const count = (): number => { try { return Number(/(\d+) of (\d+) routes/.exec(recv('show route count'))?.[1] ?? -1); } catch { return -1; } };
  const lines = (): Array<Record<string, number>> => berthOut().trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, number>);
  const wait = async (what: string, cond: () => boolean, ms = 600_000): Promise<void> => {
    const end = Date.now() + ms;
    while (!cond()) { if (Date.now() > end) throw new Error(`timed out: ${what}`); await new Promise((r) => setTimeout(r, 100)); }
  };
  let birdAt = 0;
  await wait('BIRD table', () => { if (!birdAt && count() >= n) birdAt = Date.now(); return birdAt > 0; });
  const idle0 = procStats(birdPid);
  await new Promise((r) => setTimeout(r, IDLE_MS));
  const birdIdleMs = procStats(birdPid).cpuMs - idle0.cpuMs;
  const birdSteadyKb = procStats(birdPid).rssKb;
  await wait('berth table and idle sample', () => lines().length >= 1);
  const loaded = lines()[0];
  const t1 = Date.now();
  feed('disable feed4');
  let birdGoneAt = 0;
  await wait('BIRD withdraw', () => { if (!birdGoneAt && count() === 0) birdGoneAt = Date.now(); return birdGoneAt > 0; });
  await Promise.race([berthDone, wait('berth withdraw', () => lines().length >= 2)]);
  const gone = lines()[1];
  if (!gone) throw new Error(`berth did not finish: ${berthOut()}`);
  const birdHwm = procStats(birdPid).hwmKb;
  const s = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
  const mb = (kb: number): string => `${(kb / 1024).toFixed(1)} MB`;
  console.log(`${n} IPv4 prefixes from a feeder BIRD to berth's speaker (no FIB) and to a BIRD (no kernel protocol), same run`);
  console.log(`                 berth       BIRD      ratio`);
  console.log(`table complete   ${s(loaded.ribAt - t0).padEnd(11)} ${s(birdAt - t0).padEnd(9)} ${((loaded.ribAt - t0) / (birdAt - t0)).toFixed(2)}x`);
  console.log(`peak RSS         ${mb(gone.rssKb).padEnd(11)} ${mb(birdHwm).padEnd(9)} ${(gone.rssKb / birdHwm).toFixed(2)}x   (berth: ${(gone.rssKb * 1024 / n).toFixed(0)} B per route incl. Node's ~45 MB)`);
  const perRoute = (kb: number): string => `${((kb * 1024) / n).toFixed(0)} B`;
  console.log(`steady RSS/route ${perRoute(loaded.steadyRssKb - loaded.baseRssKb).padEnd(11)} ${perRoute(birdSteadyKb - birdBaseKb).padEnd(9)} ${((loaded.steadyRssKb - loaded.baseRssKb) / (birdSteadyKb - birdBaseKb)).toFixed(2)}x   (RSS with the table loaded minus RSS before the first route; berth heap used ${mb(loaded.heapUsedKb)})`);
  console.log(`idle CPU ${IDLE_MS / 1000} s     ${loaded.idleCpuMs} ms`.padEnd(30) + ` ${birdIdleMs} ms`);
  console.log(`withdraw all     ${s(gone.withdrawnAt - t1).padEnd(11)} ${s(birdGoneAt - t1).padEnd(9)} ${((gone.withdrawnAt - t1) / (birdGoneAt - t1)).toFixed(2)}x`);
}

function sh(args: string[]): string {
  return execFileSync(args[0], args.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

async function main(): Promise<void> {
  const tag = `berth-bgpfib-${process.pid}`;
  const ns = { feed: `${tag}-feed`, berth: `${tag}-berth`, bird: `${tag}-bird` };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-bgpfib-'));
  const procs: ChildProcess[] = [];
  const cleanup = (): void => {
    for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL');
    for (const n of Object.values(ns)) spawnSync('ip', ['netns', 'delete', n]);
    fs.rmSync(dir, { recursive: true, force: true });
  };
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => { cleanup(); process.exit(130); });
  try {
    for (const n of Object.values(ns)) { sh(['ip', 'netns', 'add', n]); sh(['ip', '-n', n, 'link', 'set', 'lo', 'up']); }
    const link = (peer: string, i: number): void => {
      sh(['ip', '-n', ns.feed, 'link', 'add', `f${i}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', peer]);
      sh(['ip', '-n', ns.feed, 'addr', 'add', `10.210.${i}.1/24`, 'dev', `f${i}`]);
      sh(['ip', '-n', ns.feed, 'link', 'set', `f${i}`, 'up']);
      sh(['ip', '-n', peer, 'addr', 'add', `10.210.${i}.2/24`, 'dev', 'eth0']);
      sh(['ip', '-n', peer, 'link', 'set', 'eth0', 'up']);
    };
    link(ns.berth, 1);
    link(ns.bird, 2);
    const bird = (name: string, netns: string, conf: string): { run: () => ChildProcess; birdc: (c: string) => string } => {
      const file = path.join(dir, `${name}.conf`);
      const sock = path.join(dir, `${name}.ctl`);
      fs.writeFileSync(file, conf);
      return {
        run: () => { const p = spawn('ip', ['netns', 'exec', netns, 'bird', '-f', '-c', file, '-s', sock, '-P', path.join(dir, `${name}.pid`)], { stdio: ['ignore', 'ignore', 'inherit'] }); procs.push(p); return p; },
        birdc: (c) => sh(['birdc', '-s', sock, ...c.split(' ')]),
      };
    };
    const statics: string[] = [];
    for (let i = 0; i < N; i++) statics.push(`route ${20 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}.0/24 blackhole;`);
    const feeder = bird('feed', ns.feed, `router id 10.210.1.1;
protocol device {}
protocol static feed4 { disabled; ipv4; ${statics.join('\n')} }
protocol bgp berth { local 10.210.1.1 as 65000; neighbor 10.210.1.2 as 64512; ipv4 { import none; export all; }; }
protocol bgp recv { local 10.210.2.1 as 65000; neighbor 10.210.2.2 as 64513; ipv4 { import none; export all; }; }
`);
    const recv = bird('recv', ns.bird, `router id 10.210.2.2;
protocol device {}
${RIB_ONLY ? '' : 'protocol kernel { ipv4 { import none; export all; }; }'}
protocol bgp feed { local 10.210.2.2 as 64513; neighbor 10.210.2.1 as 65000; connect retry time 1; ipv4 { import all; export none; }; }
`);
    recv.run();
    const berth = spawn('ip', ['netns', 'exec', ns.berth, process.execPath, __filename, '--child', String(N)], { stdio: ['ignore', 'pipe', 'inherit'] });
    procs.push(berth);
    let berthOut = '';
    berth.stdout!.on('data', (d: Buffer) => { berthOut += d.toString(); });
    const berthDone = new Promise<void>((r) => berth.once('exit', () => r()));
    feeder.run();
    // both sessions Established with nothing to send yet; then the routes appear at once for both
    const up = Date.now() + 60_000;
    for (;;) {
      let p = '';
      try { p = feeder.birdc('show protocols'); } catch { /* starting */ }
      if ((p.match(/Established/g) ?? []).length === 2) break;
      if (Date.now() > up) throw new Error(`sessions not Established: ${p}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const birdPid = Number(fs.readFileSync(path.join(dir, 'recv.pid'), 'utf8'));
    const birdBaseKb = RIB_ONLY ? procStats(birdPid).rssKb : 0;
    const t0 = Date.now();
    feeder.birdc('enable feed4');
    if (RIB_ONLY) { await ribRun(N, t0, () => berthOut, berthDone, feeder.birdc, recv.birdc, birdPid, birdBaseKb); return; }
    // BIRD's table: polled every 100 ms (birdc is cheap); its kernel: counted once the table is complete
    let birdTableAt = 0;
    let birdKernelAt = 0;
    const deadline = t0 + 300_000;
    while (!birdKernelAt && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, birdTableAt ? 250 : 100));
      if (!birdTableAt) {
        let out = '';
        try { out = recv.birdc('show route count'); } catch { continue; }
                const m = /(\d+) of (\d+) routes/.exec(out);
        if (m && Number(m[1]) >= N) birdTableAt = Date.now();
      } else {
        const count = Number(sh(['sh', '-c', `ip -n ${ns.bird} -4 route show proto bird | wc -l`]).trim());
        if (count >= N) birdKernelAt = Date.now();
      }
    }
    let giveUp: NodeJS.Timeout | undefined;
    await Promise.race([berthDone, new Promise((r) => { giveUp = setTimeout(r, Math.max(0, deadline - Date.now())); })]);
    clearTimeout(giveUp); // or the process lingers until the deadline
    const b = JSON.parse(berthOut.trim().split('\n').pop() ?? '{}') as { firstAt?: number; ribAt?: number; fibAt?: number; cpuMs?: number; kernel?: number; errors?: number; batches?: number };
    if (!b.fibAt || !birdTableAt) throw new Error(`incomplete: berth ${berthOut.trim() || 'no result'}, BIRD table ${birdTableAt ? 'complete' : 'incomplete'}`);
    const rate = (at: number): string => `${((at - t0) / 1000).toFixed(2)} s, ${Math.round(N / ((at - t0) / 1000))} routes/s`;
    console.log(`${N} prefixes from a feeder BIRD, both sessions up, t0 = birdc enable of the static routes`);
    console.log(`berth Loc-RIB complete      ${rate(b.ribAt!)}`);
    console.log(`berth kernel complete       ${rate(b.fibAt)}  (verified ${b.kernel} proto-186 routes, ${b.errors} errors, ${b.batches} batches)`);
    console.log(`berth CPU, first route to last write: ${b.cpuMs} ms (load ${os.loadavg()[0].toFixed(2)})`);
    console.log(`BIRD table complete         ${rate(birdTableAt)}`);
    if (birdKernelAt) console.log(`BIRD kernel complete        ${rate(birdKernelAt)}  (polled every 250 ms)`);
    console.log(`ratio berth kernel / BIRD table: ${((b.fibAt - t0) / (birdTableAt - t0)).toFixed(2)}x` + (birdKernelAt ? `; / BIRD kernel: ${((b.fibAt - t0) / (birdKernelAt - t0)).toFixed(2)}x` : ''));
  } finally {
    cleanup();
  }
}
