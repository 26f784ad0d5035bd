// Benchmark, run on demand (root): berth's CNI plugins against the reference ones (Debian's
// containernetworking-plugins in /usr/lib/cni), all in one run, interleaved A B A B so a drifting machine
// hurts both sides alike; medians, p95 and ratios of medians.
//   1. start-up: each plugin's VERSION (and berth-bridge STATUS, which loads its IPAM) against a bare
//      `node -e 0`; budget: within 20 ms of it.
//   2. ADD+DEL latency: berth-bridge + berth-ipam against reference bridge + host-local (and berth-bridge
//      + host-local, to show what an exec'd IPAM costs, and berth-bridge started from tsc's output instead
//      of its bundle, to show what bundling saves), with a bare `node -e 0` in every round; budget: ADD and
//      DEL each within 20 ms of it. The reference's verb time less its VERSION (its Go start-up) is mostly
//      kernel work (its DEL includes the RCU wait of a veth's removal, ~15-25 ms here, which berth's DEL
//      leaves to a helper process once the veth is out of the namespace): the last lines also give
//      berth's time beyond that work, negative when berth waits for less of it.
// The plugins run from their bundles (npm run build:bundles); the bench bundles first when they are stale.
// The bench process runs in its own network and mount namespace (the "node"): plugins are spawned
// directly, without nsenter, and nothing it creates can outlive it.
//   node dist/bench/cni-bridge.js [rounds]
import { reexecIsolated } from '../test/helpers/isolate';
reexecIsolated({ net: true });

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { compare, report, stats, type Stats } from './harness';
import { createNetns } from '../test/helpers/netns';
import { bundleFresh, PLUGINS } from '../lib/cni/plugins/launch';
import { berthBridgeConf, BIN, callPlugin as call, REF, referenceBridgeConf } from './cni-cases';

const ROUNDS = Number(process.argv[2] ?? 30);
const BUDGET_MS = 20;
const signed = (ms: number): string => `${ms < 0 ? '-' : '+'}${Math.abs(ms).toFixed(1)}`;

function startup(dataDir: string): Stats[] {
  const version = (file: string) => () => call(file, { CNI_COMMAND: 'VERSION' });
  const statusConf = { cniVersion: '1.1.0', name: 'st', type: 'berth-bridge', ipam: { type: 'berth-ipam', subnet: '10.98.9.0/24', dataDir } };
  const rows = compare([
    // the baseline goes through the same spawn, env and stdin as the plugins
    { name: 'node -e 0', run: () => call(process.execPath, { CNI_COMMAND: 'VERSION' }, undefined, ['-e', '0']) },
    { name: 'berth-bridge VERSION', run: version(path.join(BIN, 'berth-bridge')) },
    { name: 'berth-ipam VERSION', run: version(path.join(BIN, 'berth-ipam')) },
    { name: 'berth-veth VERSION', run: version(path.join(BIN, 'berth-veth')) },
    { name: 'berth-portmap VERSION', run: version(path.join(BIN, 'berth-portmap')) },
    { name: 'berth-vxlan VERSION', run: version(path.join(BIN, 'berth-vxlan')) },
    { name: 'berth-bridge STATUS', run: () => call(path.join(BIN, 'berth-bridge'), { CNI_COMMAND: 'STATUS' }, statusConf) },
    { name: 'reference bridge VERSION', run: version(path.join(REF, 'bridge')) },
  ], ROUNDS);
  return rows;
}

interface Candidate {
  name: string;
  file: string;
  args?: string[];
  conf: object;
}

/** Missing or stale bundles are rebuilt first: the bench measures what `npm run build` installs. */
function ensureBundles(): void {
  if (Object.keys(PLUGINS).every((p) => bundleFresh(p) !== undefined)) return;
  console.log('bundling the plugins (npm run build:bundles)');
  execFileSync(process.execPath, [path.join(__dirname, '..', '..', 'scripts', 'bundle.js')], { stdio: 'inherit' });
}

/** An entry that runs berth-bridge from tsc's output, as bin/berth-bridge does when its bundle is stale. */
function unbundledEntry(dir: string): string {
  const file = path.join(dir, 'unbundled-bridge.js');
  const lib = path.resolve(__dirname, '..', 'lib', 'cni');
  fs.writeFileSync(file, `const { runPlugin } = require(${JSON.stringify(path.join(lib, 'skel.js'))});\n`
    + `const { plugin, ABOUT } = require(${JSON.stringify(path.join(lib, 'plugins', 'bridge.js'))});\nrunPlugin(plugin, ABOUT);\n`);
  return file;
}

function addDel(dataDir: string): { add: Stats[]; del: Stats[]; both: Stats[]; node: Stats } {
  const ctr = createNetns('benchctr');
  try {
    const cands: Candidate[] = [
      { name: 'berth-bridge + berth-ipam', file: path.join(BIN, 'berth-bridge'), conf: berthBridgeConf('b1', '10.98.0.0/24', dataDir) },
      { name: 'reference bridge + host-local', file: path.join(REF, 'bridge'), conf: referenceBridgeConf('b3', '10.98.2.0/24', dataDir) },
      { name: 'berth-bridge + host-local', file: path.join(BIN, 'berth-bridge'), conf: berthBridgeConf('b2', '10.98.1.0/24', dataDir, 'host-local') },
      { name: 'berth-bridge, unbundled', file: process.execPath, args: [unbundledEntry(dataDir)], conf: berthBridgeConf('b4', '10.98.3.0/24', dataDir) },
    ];
    const add = cands.map(() => [] as number[]);
    const del = cands.map(() => [] as number[]);
    const node: number[] = [];
    const warmup = 2;
    for (let r = 0; r < warmup + ROUNDS; r++) {
      // a bare start in the same rounds: the budget compares a plugin call with it at the same moment
      const n = call(process.execPath, {}, undefined, ['-e', '0']);
      if (r >= warmup) node.push(n);
      cands.forEach((c, i) => {
        // each candidate uses its own interface name: a leftover of one cannot slow down the other
        const env = { CNI_CONTAINERID: `c${r}`, CNI_NETNS: ctr.path, CNI_IFNAME: `eth${i}` };
        const a = call(c.file, { ...env, CNI_COMMAND: 'ADD' }, c.conf, c.args);
        const d = call(c.file, { ...env, CNI_COMMAND: 'DEL' }, c.conf, c.args);
        if (r >= warmup) { add[i].push(a); del[i].push(d); }
      });
    }
    return {
      add: cands.map((c, i) => stats(c.name, add[i])),
      del: cands.map((c, i) => stats(c.name, del[i])),
      both: cands.map((c, i) => stats(c.name, add[i].map((a, j) => a + del[i][j]))),
      node: stats('node -e 0', node),
    };
  } finally {
    ctr.remove();
  }
}

function main(): void {
  execFileSync('ip', ['link', 'set', 'lo', 'up']);
  ensureBundles();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-bench-'));
  try {
    console.log(`node ${process.version}, ${os.cpus().length} CPUs, load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}, ${ROUNDS} rounds`);
    console.log('\n# start-up (fresh process per call)');
    const up = startup(dataDir);
    report(up, 'node -e 0');
    const base = up.find((r) => r.name === 'node -e 0')!.median;
    for (const r of up.filter((x) => x.name.startsWith('berth-'))) {
      const over = r.median - base;
      console.log(`  ${r.name.padEnd(24)} +${over.toFixed(1)} ms over node -e 0: ${over <= BUDGET_MS ? 'within' : 'OVER'} the ${BUDGET_MS} ms budget`);
    }
    console.log('\n# ADD+DEL in one container netns (ratio: of the reference bridge + host-local)');
    const ad = addDel(dataDir);
    console.log('ADD');
    report(ad.add, 'reference bridge + host-local');
    console.log('DEL');
    report(ad.del, 'reference bridge + host-local');
    console.log('ADD+DEL');
    report(ad.both, 'reference bridge + host-local');
    report([ad.node]);
    // the budget is per plugin call: a real ADD or DEL, not only VERSION, against the bare start
    const refVersion = up.find((r) => r.name === 'reference bridge VERSION')!.median;
    console.log(`\n# budget: berth-bridge + berth-ipam against node -e 0 (median ${ad.node.median.toFixed(1)} ms), same rounds`);
    for (const [verb, rows] of [['ADD', ad.add], ['DEL', ad.del]] as const) {
      const [berth, ref] = rows;
      const over = berth.median - ad.node.median;
      // the reference's own start-up is about its VERSION time; the rest of its call is mostly kernel work
      const work = ref.median - refVersion;
      console.log(`  ${verb}: berth ${berth.median.toFixed(1)} ms, reference ${ref.median.toFixed(1)} ms (${(berth.median / ref.median).toFixed(2)}x); `
        + `berth - node = ${signed(over)} ms: ${over <= BUDGET_MS ? 'within' : 'OVER'} the ${BUDGET_MS} ms budget; `
        + `less the work the reference does (its ${verb} - its VERSION = ${work.toFixed(1)} ms): ${signed(over - work)} ms`);
    }
    const stale = Object.keys(PLUGINS).filter((p) => bundleFresh(p) === undefined);
    if (stale.length) console.log(`WARNING: ${stale.join(', ')} went stale during the run (a tsc build?): some calls ran unbundled`);
    console.log(`\nload average after ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

main();
