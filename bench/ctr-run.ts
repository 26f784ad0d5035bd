// 20 sequential `ctr run --rm busybox /bin/true` through containerd 1.6's runc shim (4 runtime calls each:
// create, start, delete, delete --force), with runc, with berth's native front-end and its server (warm, the
// default: the first call starts the server) and with berth cold (BERTH_NO_SERVER=1), interleaved per
// round in one run; medians of the wall time of the 20. In a private mount and network namespace, like
// test/privileged/clients-containerd; no NODE_EXTRA_CA_CERTS. Run as root:
//   node dist/bench/ctr-run.js [rounds]
import { reexecIsolated } from '../test/helpers/isolate';
reexecIsolated({ net: true });

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { IMAGE, startContainerd } from '../test/helpers/containerd';
import { cgroupParent, removeCgroupParent } from '../test/helpers/cgroup-parent';
import { report, stats } from './harness';

const ROUNDS = Number(process.argv[2] ?? 5);
const PER_ROUND = 20;
const FRONT_END = path.resolve(__dirname, '..', 'bin', 'berth');
const COLD = path.resolve(__dirname, '..', '..', 'bin', 'berth');

async function main(): Promise<void> {
  delete process.env.NODE_EXTRA_CA_CERTS;
  delete process.env.BERTH_NO_AUTOSTART; // containerd's environment reaches the runtime: the server may start
  delete process.env.BERTH_NO_SERVER;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-bench-ctr-'));
  const parent = cgroupParent(`berth-bench-ctr-${process.pid}`);
  // the shim scrubs nothing, but a cold call is chosen per runtime: a wrapper that says so
  const coldWrapper = path.join(dir, 'berth-cold');
  fs.writeFileSync(coldWrapper, `#!/bin/sh\nBERTH_NO_SERVER=1 exec ${COLD} "$@"\n`, { mode: 0o755 });
  const containerd = await startContainerd(dir);
  const args = (runtime: string, id: string) => containerd.args(['run', '--rm', '--runc-binary', runtime, '--cgroup', `${parent}/${id}`, IMAGE, id, '/bin/true']);
  let n = 0;
  const batch = (runtime: string): number => {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < PER_ROUND; i++) {
      const r = spawnSync('ctr', args(runtime, `b${n++}`), { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`ctr run with ${runtime}: exit ${r.status}: ${r.stderr}`);
    }
    return Number(process.hrtime.bigint() - t0) / 1e6;
  };
  const runtimes: [string, string][] = [['runc', 'runc'], ['berth warm (front-end + server)', FRONT_END], ['berth cold (BERTH_NO_SERVER=1)', coldWrapper]];
  const times = runtimes.map(() => [] as number[]);
  try {
    for (const [, rt] of runtimes) batch(rt); // warm-up: image unpacked, server started
    for (let r = 0; r < ROUNDS; r++) runtimes.forEach(([, rt], i) => times[i].push(batch(rt)));
    console.log(`# ${os.cpus().length} cores, kernel ${os.release()}, load ${os.loadavg()[0].toFixed(1)}; ${execFileSync('containerd', ['--version'], { encoding: 'utf8' }).trim()}`);
    console.log(`# wall time of ${PER_ROUND} sequential ctr run --rm ${IMAGE} /bin/true, ${ROUNDS} rounds`);
    report(runtimes.map(([name], i) => stats(name, times[i])), 'runc');
  } finally {
    // the server the first warm call started: under the shim's root for this namespace
    for (const pidFile of ['/run/containerd/runc/berth/serve.pid']) {
      try { process.kill(Number(fs.readFileSync(pidFile, 'utf8')), 'SIGTERM'); } catch { /* none */ }
    }
    await containerd.stop();
    removeCgroupParent(parent);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: Error) => { console.error(`bench: ${e.message}`); process.exitCode = 1; });
