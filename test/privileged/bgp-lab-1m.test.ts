// A node under a 1M-route feed keeps its lease and its pods answer pings throughout (issue 15). Three BGP
// nodes; a feeder BIRD (../helpers/bgp-feed.ts) announces FEED_N prefixes (1M by default) to n1's agent and
// later withdraws them, while pods on n2 and n3 ping a pod on n1 at 100 pps each. Every 100 ms the test
// reads the store and the other nodes' status files: n1's lease is always there, unexpired, on one subnet;
// n2 and n3 always forward to n1 and their sessions to n1 never go down. With the table loaded, n1's agent
// is sampled from /proc for IDLE_S: under IDLE_CPU_BOUND of a core. The 200k feed with `berth bgp peers`
// answer times: bgp-lab-feed.test.ts.
import t from 'tap';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Lab } from '../../lib/lab/lab';
import type { Pod } from '../../lib/lab/pods';
import type { LabRouter } from '../../lib/lab/bird';
import { agentLog, flood100pps, storedLease } from '../helpers/lab';
import { FEED_RANGE, FEED_TTL_S, FEEDER_IP, feedLab } from '../helpers/bgp-feed';
import { CLK_TCK, cpuTicks, mainPrefixes, memKb } from '../helpers/proc-stats';
import type { Lease } from '../../lib/cni/agent/store/types';
import type { BgpStatusFile } from '../../lib/cni/agent/backends/bgp/status';

const FEED_N = Number(process.env.BERTH_FEED_N ?? 1_000_000);
const IDLE_S = 5;
/** a tick with nothing to do costs milliseconds; a tick that touched the table would cost a core */
const IDLE_CPU_BOUND = 0.1;
/**
 * n1's agent's peak RSS (VmHWM) at the 1M feed. BIRD fed the same peaks at ~95 MB (bench/bgp-agent.ts); the
 * agent at 177-195 MB (the bench; this test's 3-node lab) with FibSync's backpressure on the speaker
 * (lib/cni/bgp/fib.ts), 180-245 MB without it, 420-450 MB also without the heap tuning and the compact
 * kernel record. Scaled with the feed for smaller BERTH_FEED_N.
 */
const PEAK_RSS_MB = 60 + 190 * Math.min(1, FEED_N / 1_000_000);

let lab: Lab;
let feeder: LabRouter;
const pods: Record<string, Pod> = {};

t.before(async () => {
  const f = await feedLab(t, { nodes: 3, n: FEED_N, tag: 'f1m' });
  ({ lab, feeder } = f);
  for (const pod of f.pods) pods[pod.name] = pod;
});

const readJson = <T>(file: string): T | undefined => {
  try { return JSON.parse(fs.readFileSync(file, 'utf8')) as T; } catch { return undefined; }
};


/** n1's session as `node` last wrote it (bgp.json, rewritten every tick) */
function sessionToN1(node: string): BgpStatusFile['peers'][number] | undefined {
  return readJson<BgpStatusFile>(path.join(lab.node(node).runDir, 'bgp.json'))?.peers.find((p) => p.address === lab.node('n1').ip);
}

/** whether `node`'s agent forwards to n1 (status.json peers: nodes whose block is a best BGP route) */
function forwardsToN1(node: string): boolean {
  return readJson<{ peers?: string[] }>(path.join(lab.node(node).runDir, 'status.json'))?.peers?.includes('n1') ?? false;
}

/** n1's protocol-186 routes in the fed range, counted exactly */
function fedInKernel(): number {
  return Number(lab.exec('n1', 'sh', ['-c', `ip -4 route show proto 186 root ${FEED_RANGE} | wc -l`]).stdout.trim());
}

interface Watch { samples: number; minMarginMs: number; problems: string[]; n1Gap: number; stop(): void }

/** every 100 ms: n1's lease in the store, n2's and n3's view of n1; the first sample fixes what must not change */
function watch(): Watch {
  const lease0 = storedLease(lab, 'n1');
  const since0 = { n2: sessionToN1('n2')?.since, n3: sessionToN1('n3')?.since };
  const w: Watch = { samples: 0, minMarginMs: Infinity, problems: [], n1Gap: 0, stop: () => clearInterval(timer) };
  const problem = (p: string): void => { if (w.problems.length < 20) w.problems.push(`${new Date().toISOString()} ${p}`); };
  let n1Updated = Date.now();
  let n1Last = '';
  const timer = setInterval(() => {
    w.samples++;
    const now = Date.now();
    const l = storedLease(lab, 'n1');
    if (!l) problem('n1 has no lease in the store');
    else {
      w.minMarginMs = Math.min(w.minMarginMs, l.expiresAt - now);
      if (l.expiresAt <= now) problem(`n1's lease expired ${now - l.expiresAt} ms ago`);
      if (l.subnet !== lease0?.subnet) problem(`n1's lease moved: ${lease0?.subnet} -> ${l.subnet}`);
    }
    for (const node of ['n2', 'n3'] as const) {
      const s = sessionToN1(node);
      if (!s) continue; // between a rename and the next read: the next sample sees it
      if (s.state !== 'Established' || s.since !== since0[node]) problem(`${node}'s session to n1: ${s.state} since ${s.since} (was since ${since0[node]})`);
      if (!forwardsToN1(node)) problem(`${node} does not forward to n1`);
    }
    // how long n1's tick went without writing its status: a diagnostic, the lease has its own timer
    const st = readJson<{ updatedAt: string }>(path.join(lab.node('n1').runDir, 'status.json'))?.updatedAt ?? n1Last;
    if (st !== n1Last) { n1Last = st; n1Updated = now; }
    w.n1Gap = Math.max(w.n1Gap, now - n1Updated);
  }, 100);
  if (!lease0) problem('n1 had no lease at the start');
  return w;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

t.test(`n1 takes ${FEED_N} prefixes in and out; its lease, its sessions and 2 x 100 pps to its pod hold throughout`, { timeout: 300_000 }, async (t) => {
  const feedUp = Date.now() + 20_000;
  while (sessionToN1('n2')?.state !== 'Established' || sessionToN1('n3')?.state !== 'Established'
    || readJson<BgpStatusFile>(path.join(lab.node('n1').runDir, 'bgp.json'))?.peers.find((p) => p.address === FEEDER_IP)?.state !== 'Established') {
    if (Date.now() > feedUp) throw new Error('sessions to n1 (feeder, n2, n3) not Established in 20 s');
    await sleep(100);
  }
  const agentPid = lab.node('n1').agentPid!;
  const logFrom = agentLog(lab, 'n1').length;
  const base = mainPrefixes(agentPid);
  const w = watch();
  let loadMs = -1;
  let loaded = -1;
  let idleShare = -1;
  let withdrawMs = -1;
  let left = -1;
  const t0 = Date.now();
  const untilPrefixes = async (cond: (n: number) => boolean, ms: number): Promise<number> => {
    while (Date.now() - t0 < ms) {
      if (cond(mainPrefixes(agentPid) - base)) return Date.now();
      await sleep(250);
    }
    return -1;
  };
  let feedDone!: () => void;
  const fed = new Promise<void>((r) => { feedDone = r; });
  const feed = async (): Promise<void> => {
    feeder.birdc('enable feed');
    const at = await untilPrefixes((n) => n >= FEED_N, 150_000);
    if (at >= 0) loadMs = at - t0;
    loaded = fedInKernel();
    // the table is in: what the agent costs when nothing changes
    const cpu0 = cpuTicks(agentPid);
    await sleep(IDLE_S * 1000);
    idleShare = (cpuTicks(agentPid) - cpu0) / CLK_TCK / IDLE_S;
    const t1 = Date.now();
    feeder.birdc('disable feed');
    const gone = await untilPrefixes((n) => n <= 0, Date.now() - t0 + 150_000);
    if (gone >= 0) withdrawMs = gone - t1;
    left = fedInKernel();
    feedDone();
  };
  // n2's pod pings while the feed runs; n3's for as long
  const [toB, toC] = await Promise.all([flood100pps(pods.b.ns, pods.a.ip, feed), flood100pps(pods.c.ns, pods.a.ip, () => fed)]);
  w.stop();

  t.ok(loadMs >= 0, `all ${FEED_N} prefixes in n1's kernel ${loadMs} ms after the feed was enabled`);
  t.equal(loaded, FEED_N, `n1's kernel holds exactly the ${FEED_N} fed prefixes (protocol 186)`);
  t.ok(withdrawMs >= 0, `all withdrawn from n1's kernel after ${withdrawMs} ms`);
  t.equal(left, 0, 'no fed prefix left in n1\'s kernel');
  const peakMb = memKb(agentPid).hwm / 1024;
  t.ok(peakMb < PEAK_RSS_MB, `n1's agent peaked at ${peakMb.toFixed(1)} MB RSS through load and withdraw (bound ${PEAK_RSS_MB} MB)`);
  t.ok(idleShare >= 0 && idleShare < IDLE_CPU_BOUND, `n1's agent idle with the table loaded: ${(idleShare * 100).toFixed(1)}% of a core over ${IDLE_S} s (bound ${IDLE_CPU_BOUND * 100}%)`);
  for (const [from, r] of [['n2', toB], ['n3', toC]] as const) {
    t.ok(r.sent >= 100 * 10, `${r.sent} pings sent from ${from}'s pod`);
    t.equal(r.received, r.sent, `every ping from ${from}'s pod to n1's pod answered (${r.received}/${r.sent})`);
  }
  t.ok(w.samples >= 100, `${w.samples} samples of the store and of n2's and n3's view, every 100 ms`);
  t.same(w.problems, [], `n1's lease never expired nor moved (closest: ${w.minMarginMs} ms before expiry; TTL ${FEED_TTL_S} s), n2 and n3 kept their sessions to n1 and forwarded to it (n1's longest tick gap: ${w.n1Gap} ms)`);
  const lines = agentLog(lab, 'n1').slice(logFrom);
  t.same(lines.filter((l) => /lease/.test(String(l.msg)) && l.level !== 'info'), [], 'n1 logged no lease loss or renewal failure');
  t.same(lines.filter((l) => l.level === 'error'), [], 'n1 logged no error');
});
