// On-demand benchmark (issue 15): the whole `berth agent` at a big table, against BIRD, in one run. A lab of
// one BGP node (n1, its agent as users run it) and two BIRD namespaces on its underlay: a feeder with N /24s
// in a disabled static protocol (test/helpers/bgp-feed.ts) and a control BIRD that, like n1's agent, takes
// the feed over eBGP and exports it into its namespace's kernel. `birdc enable feed` announces to both at
// the same moment, `disable feed` withdraws from both. Measured for each side: time to all N routes in its
// kernel, peak RSS (VmHWM) and steady RSS per route, CPU over IDLE_S with the table loaded, time to none.
// Route counts come from /proc/<pid>/net/fib_triestat (the process's own network namespace): no listing.
// Everything is in the lab's namespaces, removed at the end (also on SIGINT/SIGTERM). Run (root):
//   node dist/bench/bgp-agent.js [N ...]        (default: 200000 1000000, one lab each)
// BERTH_BENCH_HEAP=<dir>: the agent writes a V8 heap snapshot there once the table is loaded (after the idle sample)
import * as fs from 'node:fs';
import * as os from 'node:os';
import { Lab } from '../lib/lab/lab';
import { startLabBird, type LabRouter } from '../lib/lab/bird';
import { FEED_MAX, FEED_RANGE, FEEDER_IP, feederConf } from '../test/helpers/bgp-feed';
import { CLK_TCK, cpuTicks, mainPrefixes, memKb } from '../test/helpers/proc-stats';

const SIZES = process.argv.slice(2).map(Number);
const IDLE_S = 10;
const HOLD_S = 90;
const CONTROL_IP = '10.250.0.249';
const CONTROL_ASN = 64513;
const LIMIT_MS = 600_000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function controlConf(): string {
  return `
router id ${CONTROL_IP};
log stderr { error, fatal };
protocol device {}
protocol kernel { ipv4 { import none; export all; }; }
protocol bgp feeder {
  local ${CONTROL_IP} as ${CONTROL_ASN};
  neighbor ${FEEDER_IP} as 65000;
  hold time ${HOLD_S};
  ipv4 { import all; export none; };
}
`;
}

/** SIGUSR2 to a Node started with --heapsnapshot-signal; resolves once its new snapshot file is complete */
async function heapSnapshot(pid: number, dir: string): Promise<void> {
  const before = new Set(fs.readdirSync(dir));
  process.kill(pid, 'SIGUSR2');
  for (let i = 0; i < 1200; i++) {
    await sleep(250);
    const made = fs.readdirSync(dir).find((f) => !before.has(f) && f.endsWith('.heapsnapshot'));
    // the file is written in one go by the main thread: done when its size stops growing
    if (made) {
      const size = fs.statSync(`${dir}/${made}`).size;
      await sleep(1000);
      if (fs.statSync(`${dir}/${made}`).size === size && size > 0) { console.log(`heap snapshot: ${dir}/${made}`); return; }
    }
  }
  throw new Error('the agent wrote no heap snapshot in 5 min');
}

interface Side { name: string; pid: number; base: number; baseRssKb: number; loadedMs?: number; goneMs?: number; steadyRssKb?: number; idleShare?: number }

/** polls both sides every 100 ms until `done(count)` holds for each; records each side's time into `key` */
async function until(sides: Side[], t0: number, key: 'loadedMs' | 'goneMs', done: (extra: number) => boolean): Promise<void> {
  while (sides.some((s) => s[key] === undefined)) {
    if (Date.now() - t0 > LIMIT_MS) throw new Error(`${key}: not reached in ${LIMIT_MS / 1000} s by ${sides.filter((s) => s[key] === undefined).map((s) => s.name).join(', ')}`);
    for (const s of sides) if (s[key] === undefined && done(mainPrefixes(s.pid) - s.base)) s[key] = Date.now() - t0;
    await sleep(100);
  }
}

/** the feeder's sessions to n1's agent and to the control BIRD are up: the feed reaches both at once */
async function established(feeder: LabRouter): Promise<void> {
  const end = Date.now() + 30_000;
  while (!/node\s+BGP\s+\S+\s+up[\s\S]*control\s+BGP\s+\S+\s+up/.test(feeder.birdc('show protocols'))) {
    if (Date.now() > end) throw new Error(`the feeder's sessions did not come up:\n${feeder.birdc('show protocols')}`);
    await sleep(200);
  }
}

async function measure(n: number): Promise<void> {
  if (!Number.isInteger(n) || n < 1 || n > FEED_MAX) throw new Error(`N ${n}: want 1 to ${FEED_MAX}`);
  const name = `ba${process.pid % 10000}`;
  let lab: Lab | undefined;
  const down = (): void => { void Lab.down(name).finally(() => process.exit(130)); };
  process.once('SIGINT', down);
  process.once('SIGTERM', down);
  try {
    lab = await Lab.up({ name, nodes: 1, network: 'bgp', agents: false });
    const node = lab.node('n1');
    const feeder = await startLabBird(lab.state, 'feed', FEEDER_IP, feederConf({ n, feederIp: FEEDER_IP, nodeIp: node.ip, holdS: HOLD_S, alsoTo: [{ name: 'control', ip: CONTROL_IP, asn: CONTROL_ASN }] }));
    const control = await startLabBird(lab.state, 'ctl', CONTROL_IP, controlConf());
    const heapDir = process.env.BERTH_BENCH_HEAP;
    // the agent inherits our environment: Node writes a snapshot into its working directory on SIGUSR2
    const nodeOptions = process.env.NODE_OPTIONS;
    if (heapDir) process.env.NODE_OPTIONS = `${nodeOptions ?? ''} --heapsnapshot-signal=SIGUSR2 --diagnostic-dir=${heapDir}`;
    await lab.startAgents(['n1'], ['--bgp-peer', `${FEEDER_IP}@65000`, '--bgp-import', FEED_RANGE]);
    if (heapDir) { if (nodeOptions === undefined) delete process.env.NODE_OPTIONS; else process.env.NODE_OPTIONS = nodeOptions; }
    await established(feeder);
    const agentPid = node.agentPid!;
    await sleep(2000); // the agent's first ticks (lease, status) are over
    const sides: Side[] = [agentPid, control.pid].map((pid, i) => ({ name: i === 0 ? 'berth agent' : 'BIRD', pid, base: mainPrefixes(pid), baseRssKb: memKb(pid).rss }));
    const load = os.loadavg()[0];

    const t0 = Date.now();
    feeder.birdc('enable feed');
    await until(sides, t0, 'loadedMs', (c) => c >= n);
    const peakLoading = sides.map((x) => memKb(x.pid).hwm);
    await sleep(2000); // the last batch's garbage and status are done: what a loaded agent holds
    const cpu0 = sides.map((s) => cpuTicks(s.pid));
    await sleep(IDLE_S * 1000);
    sides.forEach((s, i) => {
      s.idleShare = (cpuTicks(s.pid) - cpu0[i]) / CLK_TCK / IDLE_S;
      s.steadyRssKb = memKb(s.pid).rss;
    });
    if (heapDir) await heapSnapshot(agentPid, heapDir);
    const t1 = Date.now();
    feeder.birdc('disable feed');
    await until(sides, t1, 'goneMs', (c) => c <= 0);
    const peak = sides.map((s) => memKb(s.pid).hwm);

    const [b, r] = sides;
    const row = (label: string, berth: string, bird: string, ratio: string): void => console.log(`${label.padEnd(34)} ${berth.padStart(12)} ${bird.padStart(12)} ${ratio.padStart(7)}`);
    const s = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
    const mb = (kb: number): string => `${(kb / 1024).toFixed(1)} MB`;
    const perRoute = (x: Side): number => ((x.steadyRssKb! - x.baseRssKb) * 1024) / n;
    console.log(`\n${n} prefixes, one berth agent and one BIRD fed at once; load ${load.toFixed(2)} at the start, ${os.loadavg()[0].toFixed(2)} at the end (${new Date().toISOString()})`);
    row('', 'berth agent', 'BIRD', 'ratio');
    row('enable -> all in the kernel', s(b.loadedMs!), s(r.loadedMs!), (b.loadedMs! / r.loadedMs!).toFixed(2));
    row('peak RSS (VmHWM)', mb(peak[0]), mb(peak[1]), (peak[0] / peak[1]).toFixed(2));
    row('  of which reached while loading', mb(peakLoading[0]), mb(peakLoading[1]), '');
    row('RSS before the feed', mb(b.baseRssKb), mb(r.baseRssKb), '');
    row('steady RSS per route', `${perRoute(b).toFixed(0)} B`, `${perRoute(r).toFixed(0)} B`, (perRoute(b) / perRoute(r)).toFixed(2));
    row(`idle CPU over ${IDLE_S} s, table loaded`, `${(b.idleShare! * 100).toFixed(1)}%`, `${(r.idleShare! * 100).toFixed(1)}%`, '');
    row('disable -> none in the kernel', s(b.goneMs!), s(r.goneMs!), (b.goneMs! / r.goneMs!).toFixed(2));
  } finally {
    process.removeListener('SIGINT', down);
    process.removeListener('SIGTERM', down);
    await Lab.down(name);
  }
}

void (async () => {
  for (const n of SIZES.length ? SIZES : [200_000, 1_000_000]) await measure(n);
})().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : String(e));
  process.exit(1);
});
