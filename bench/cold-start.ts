// The cold path (issue #13: no server, BERTH_NO_SERVER=1): what a call costs when it has to start Node.
// In every round, interleaved so that a drifting machine hurts all alike:
//   - a bare `node -e 0` (the floor of any cold call),
//   - `berth run /bin/true` from bin/berth (the Node entry) and through the native front-end that clients
//     exec (dist/bin/berth, which execs the same entry when no server answers), against `runc run`;
//   - `berth state` of a missing id against `runc state` of one,
//   - a CNI ADD and its DEL, berth-bridge + berth-ipam (bin/, cold) against the reference bridge +
//     host-local, in one container netns.
// Reported: medians, p95, ms over `node -e 0` (the budget: berth run within 15 ms of it) and the
// ratio to the peer; and each call's CPU time (user + system of it and of what it waited for, a mean of
// the rounds), which a loaded machine inflates far less than wall time. BERTH_BASELINE=<another checkout> adds its rows to the same rounds (before/after).
// The bench runs in its own network and mount namespace; nothing it makes outlives it. Run as root:
//   node dist/bench/cold-start.js [rounds]
import { reexecIsolated } from '../test/helpers/isolate';
reexecIsolated({ net: true });

import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { makeBundle } from '../test/helpers/bundle';
import { createNetns } from '../test/helpers/netns';
import { openBundle } from '../lib/util/bundle';
import { BUNDLE_FILE } from '../lib/runtime/cli/entry';
import { childCpuMs, clientEnv, report, stats, timeCommand, type Stats } from './harness';
import { berthBridgeConf, callPlugin, REF, referenceBridgeConf } from './cni-cases';

const ROUNDS = Number(process.argv[2] ?? 30);
const WARMUP = 3;
const BUDGET_MS = 15;
const HOME = path.resolve(__dirname, '..', '..');
const baseline = process.env.BERTH_BASELINE ? path.resolve(process.env.BERTH_BASELINE) : undefined;
const env = clientEnv({ BERTH_NO_SERVER: '1', BERTH_NO_AUTOSTART: '1' });
const signed = (ms: number): string => `${ms < 0 ? '-' : '+'}${Math.abs(ms).toFixed(1)}`;

interface Case {
  name: string;
  /** the row this one is compared with (its peer), if any */
  peer?: string;
  /** times one call of round `round` */
  run: (round: number) => number;
}

/** The berth rows of one installation (this checkout, or the baseline): `label` prefixes their names. */
function berthCases(home: string, label: string, dir: string, berthRoot: string, dataDir: string, netns: string, net: number): Case[] {
  const berth = path.join(home, 'bin', 'berth');
  const id = label ? 'base-' : ''; // container ids: no spaces
  const conf = berthBridgeConf(`c${net}`, `10.98.${net}.0/24`, dataDir);
  const cni = (verb: string, round: number) => callPlugin(path.join(home, 'bin', 'berth-bridge'),
    { CNI_COMMAND: verb, CNI_CONTAINERID: `${id}c${round}`, CNI_NETNS: netns, CNI_IFNAME: `eth${net}` }, conf);
  return [
    { name: `${label}berth run /bin/true`, peer: 'runc run /bin/true', run: (r) => timeCommand([berth, '--root', berthRoot, 'run', '--bundle', dir, `${id}b${r}`], { env }) },
    ...(label ? [] : [{ name: 'berth run, front-end (cold)', peer: 'runc run /bin/true', run: (r: number) => timeCommand([path.join(home, 'dist', 'bin', 'berth'), '--root', berthRoot, 'run', '--bundle', dir, `f${r}`], { env }) }]),
    { name: `${label}berth state (missing id)`, peer: 'runc state (missing id)', run: () => timeCommand([berth, '--root', berthRoot, 'state', 'none'], { env, expectStatus: 1 }) },
    { name: `${label}berth-bridge ADD`, peer: 'reference bridge ADD', run: (r) => cni('ADD', r) },
    { name: `${label}berth-bridge DEL`, peer: 'reference bridge DEL', run: (r) => cni('DEL', r) },
  ];
}

function main(): void {
  execFileSync('ip', ['link', 'set', 'lo', 'up']);
  const bundle = openBundle(BUNDLE_FILE);
  if (!bundle) console.log('WARNING: dist/cli/berth.js is stale or missing (npm run build:bundles): bin/berth runs tsc\'s output');
  const b = makeBundle(['/bin/true']);
  const dir = b.dir;
  const ctr = createNetns('coldctr');
  try {
    const berthRoot = path.join(dir, 'berth-state');
    const runcRoot = path.join(dir, 'runc-state');
    const dataDir = path.join(dir, 'ipam');
    const ref = referenceBridgeConf('ref', '10.98.200.0/24', dataDir);
    const refCni = (verb: string, round: number) => callPlugin(path.join(REF, 'bridge'),
      { CNI_COMMAND: verb, CNI_CONTAINERID: `ref${round}`, CNI_NETNS: ctr.path, CNI_IFNAME: 'eth9' }, ref);
    const cases: Case[] = [
      { name: 'node -e 0', run: () => timeCommand([process.execPath, '-e', '0'], { env }) },
      { name: 'runc run /bin/true', run: (r) => timeCommand(['runc', '--root', runcRoot, 'run', '--bundle', dir, `r${r}`]) },
      { name: 'runc state (missing id)', run: () => timeCommand(['runc', '--root', runcRoot, 'state', 'none'], { expectStatus: 1 }) },
      { name: 'reference bridge ADD', run: (r) => refCni('ADD', r) },
      { name: 'reference bridge DEL', run: (r) => refCni('DEL', r) },
      ...berthCases(HOME, '', dir, berthRoot, dataDir, ctr.path, 1),
      ...(baseline ? berthCases(baseline, 'baseline ', dir, berthRoot, dataDir, ctr.path, 2) : []),
    ];
    // ADD before DEL: each round's cases run in this order
    const times = cases.map(() => [] as number[]);
    const cpu = cases.map(() => 0);
    for (let r = 0; r < WARMUP + ROUNDS; r++) {
      cases.forEach((c, i) => {
        const cpu0 = childCpuMs();
        const ms = c.run(r);
        if (r >= WARMUP) {
          times[i].push(ms);
          cpu[i] += childCpuMs() - cpu0;
        }
      });
    }
    const cpuOf = (name: string): number => cpu[cases.findIndex((c) => c.name === name)] / ROUNDS;
    const rows = cases.map((c, i) => stats(c.name, times[i]));
    const row = (name: string): Stats => rows.find((x) => x.name === name)!;
    console.log(`# ${os.cpus().length} cores, ${os.cpus()[0].model}, kernel ${os.release()}, node ${process.version}, load ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);
    console.log(`# runc: ${execFileSync('runc', ['--version'], { encoding: 'utf8' }).split('\n')[0]}; CLI bundle ${bundle ? bundle.id : 'stale'}; ${ROUNDS} rounds`);
    report(rows);
    const node = row('node -e 0').median;
    const nodeCpu = cpuOf('node -e 0');
    console.log(`\n# over node -e 0 (median ${node.toFixed(1)} ms, CPU ${nodeCpu.toFixed(1)} ms a call), and against the peer;`
      + ' CPU: user + system of the call and what it waited for, mean of the rounds');
    for (const c of cases.filter((x) => x.peer)) {
      const r = row(c.name);
      const peer = row(c.peer!);
      const over = r.median - node;
      const budget = c.name.endsWith('berth run /bin/true') ? `  (${over <= BUDGET_MS ? 'within' : 'OVER'} the ${BUDGET_MS} ms budget)` : '';
      const cpuOver = cpuOf(c.name) - nodeCpu;
      console.log(`  ${c.name.padEnd(36)} ${r.median.toFixed(1).padStart(6)} ms  ${signed(over)} ms over node  `
        + `${(r.median / peer.median).toFixed(2)}x of ${c.peer} (${peer.median.toFixed(1)} ms)${budget}; `
        + `CPU ${cpuOf(c.name).toFixed(1)} ms (${signed(cpuOver)} over node; ${c.peer} ${cpuOf(c.peer!).toFixed(1)})`);
    }
    if (bundle && !openBundle(BUNDLE_FILE)) console.log('WARNING: the CLI bundle went stale during the run (a tsc build?)');
    console.log(`# load after ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  } finally {
    ctr.remove();
    b.cleanup();
  }
}

main();
