// Benchmark, run on demand (root): CNI ADD and DEL of berth-bridge + berth-ipam through `berth serve`
// (issue 13) against the reference bridge + host-local exec'd per call, interleaved in one run; medians,
// p95 and ratios of medians.
// The warm rows use the Node test client (test/helpers/serve-client.ts) from inside this process: it is
// NOT the real front-end. "in-process client" is the server's share (request, work, reply) without any
// process start; "client process" starts a fresh Node per call (an upper bound, Node's start included).
// "native front-end" is what clients exec: dist/bin/berth-bridge (C) asking the same server.
// The bench runs in its own network and mount namespace (the "node"); the server is its child there.
//   node dist/bench/cni-server.js [rounds]
import { reexecIsolated } from '../test/helpers/isolate';
reexecIsolated({ net: true });

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { report, stats } from './harness';
import { createNetns } from '../test/helpers/netns';
import { call } from '../test/helpers/serve-client';
import { startServer } from '../test/helpers/serve-process';

const ROUNDS = Number(process.argv[2] ?? 30);
const BIN = path.resolve(__dirname, '..', '..', 'bin');
const REF = '/usr/lib/cni';
const CNI_PATH = `${BIN}:${REF}`;
const CLIENT = path.resolve(__dirname, '..', 'test', 'helpers', 'serve-client-cli.js');
const FRONT_END = path.resolve(__dirname, '..', 'bin', 'berth-bridge');

const ms = (t0: bigint): number => Number(process.hrtime.bigint() - t0) / 1e6;

function execPlugin(file: string, args: string[], env: Record<string, string>, conf: object): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(file, args, { input: JSON.stringify(conf), env: { PATH: process.env.PATH ?? '', CNI_PATH, ...env }, encoding: 'utf8' });
  const t = ms(t0);
  if (r.status !== 0) throw new Error(`${path.basename(file)} ${env.CNI_COMMAND}: exit ${r.status}: ${r.stdout}${r.stderr}`);
  return t;
}

async function main(): Promise<void> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'warm-server-bench-'));
  const root = path.join(work, 'root');
  const dataDir = path.join(work, 'ipam');
  const ctr = createNetns('wsbench');
  const s = await startServer(root);
  try {
    const berth = (n: string, i: number) => ({ cniVersion: '1.1.0', name: n, type: 'berth-bridge', bridge: `br-${n}`, isGateway: true, ipam: { type: 'berth-ipam', ranges: [[{ subnet: `10.99.${i}.0/24` }]], dataDir } });
    const refConf = { cniVersion: '1.0.0', name: 'wr', type: 'bridge', bridge: 'br-wr', isGateway: true, ipam: { type: 'host-local', subnet: '10.99.9.0/24', dataDir } };
    const names = ['reference bridge + host-local (exec)', 'berth cold (exec bin/berth-bridge)', 'berth warm, in-process Node client', 'berth warm, Node client process', 'berth warm, native front-end'];
    const add = names.map(() => [] as number[]);
    const del = names.map(() => [] as number[]);
    const cold = { BERTH_NO_SERVER: '1', BERTH_NO_AUTOSTART: '1' };
    const warmup = 2;
    for (let r = 0; r < warmup + ROUNDS; r++) {
      const keep = r >= warmup;
      const env = (i: number, verb: string) => ({ CNI_COMMAND: verb, CNI_CONTAINERID: `c${r}`, CNI_NETNS: ctr.path, CNI_IFNAME: `eth${i}`, CNI_ARGS: '' });
      const push = (i: number, a: number, d: number) => { if (keep) { add[i].push(a); del[i].push(d); } };
      push(0, execPlugin(path.join(REF, 'bridge'), [], env(0, 'ADD'), refConf), execPlugin(path.join(REF, 'bridge'), [], env(0, 'DEL'), refConf));
      const bridge = path.join(BIN, 'berth-bridge');
      push(1, execPlugin(bridge, [], { ...env(1, 'ADD'), ...cold }, berth('wc', 1)), execPlugin(bridge, [], { ...env(1, 'DEL'), ...cold }, berth('wc', 1)));
      const warm = async (verb: string): Promise<number> => {
        const t0 = process.hrtime.bigint();
        const res = await call(root, { program: 'berth-bridge', argv: [], env: { PATH: process.env.PATH ?? '', CNI_PATH, ...env(2, verb) }, stdin: JSON.stringify(berth('ww', 2)) });
        const t = ms(t0);
        if (res.reply?.type !== 'exit' || res.reply.status !== 0) throw new Error(`warm ${verb}: ${JSON.stringify(res)}`);
        return t;
      };
      push(2, await warm('ADD'), await warm('DEL'));
      const proc = (verb: string): number => {
        const opts = { program: 'berth-bridge', argv: [], env: { PATH: process.env.PATH ?? '', CNI_PATH, ...env(3, verb) }, stdin: JSON.stringify(berth('wp', 3)) };
        const t0 = process.hrtime.bigint();
        const out = spawnSync(process.execPath, [CLIENT, root, JSON.stringify(opts)], { encoding: 'utf8' });
        const t = ms(t0);
        if (!/"status":0/.test(out.stdout)) throw new Error(`client process ${verb}: ${out.stdout}${out.stderr}`);
        return t;
      };
      push(3, proc('ADD'), proc('DEL'));
      const viaFrontEnd = { ...env(4, 'ADD'), BERTH_ROOT: root, BERTH_NO_AUTOSTART: '1' };
      push(4, execPlugin(FRONT_END, [], viaFrontEnd, berth('wf', 4)), execPlugin(FRONT_END, [], { ...viaFrontEnd, CNI_COMMAND: 'DEL' }, berth('wf', 4)));
    }
    console.log(`CNI through berth serve, ${ROUNDS} rounds`);
    console.log('ADD');
    report(names.map((n, i) => stats(n, add[i])), names[0]);
    console.log('DEL');
    report(names.map((n, i) => stats(n, del[i])), names[0]);
    const rss = fs.readFileSync(`/proc/${s.child.pid}/status`, 'utf8').match(/VmRSS:\s+(\d+) kB/)?.[1];
    console.log(`server RSS after the run: ${rss} kB`);
  } finally {
    await s.stop();
    ctr.remove();
    fs.rmSync(work, { recursive: true, force: true });
  }
}

main().catch((e) => { console.error(e); process.exitCode = 1; });
