// The warm launch (issue 13) as clients see it: the native front-end (dist/bin/berth) asking a `berth serve`
// that launches (its default), against `runc` and against the cold path (BERTH_NO_SERVER=1), on the
// same busybox bundle, interleaved in one run: `run /bin/true`, and create + start + delete (youki's
// benchmark; the container is /bin/true, delete --force for both, as it may still be exiting). Also the server's RSS idle and after
// the runs. In the clients' environment: no NODE_EXTRA_CA_CERTS. Run as root:
//   node dist/bench/warm-launch.js [rounds]
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { baseSpec, makeRootfs } from '../test/helpers/bundle';
import { cgroupParent, removeCgroupParent } from '../test/helpers/cgroup-parent';
import { startServer } from '../test/helpers/serve-process';
import { compare, report, stats, timeCommand } from './harness';

const rounds = Number(process.argv[2] ?? 30);
const frontend = path.resolve(__dirname, '..', 'bin', 'berth');
const env: NodeJS.ProcessEnv = { ...process.env, BERTH_NO_AUTOSTART: '1' };
delete env.NODE_EXTRA_CA_CERTS;
delete env.BERTH_NO_SERVER;
const coldEnv = { ...env, BERTH_NO_SERVER: '1' };

const rssKb = (pid: number): number => Number(/^VmRSS:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-bench-warm-'));
  const cgroup = cgroupParent('berth-bench-warm-launch');
  const roots = { warm: path.join(dir, 'warm'), cold: path.join(dir, 'cold'), runc: path.join(dir, 'runc') };
  for (const r of Object.values(roots)) fs.mkdirSync(r, { mode: 0o700 });
  makeRootfs(path.join(dir, 'rootfs'));
  const spec = baseSpec(['/bin/true']);
  // one container at a time: every run uses (and removes) the same cgroup below ours
  spec.linux!.cgroupsPath = `${cgroup}/c`;
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(spec));
  const server = await startServer(roots.warm, { env });
  try {
    const idleRss = rssKb(server.child.pid!);
    let n = 0;
    const berth = (root: string, e: NodeJS.ProcessEnv) => (args: string[]) => timeCommand([frontend, '--root', root, ...args], { env: e });
    const warm = berth(roots.warm, env);
    const cold = berth(roots.cold, coldEnv);
    const runc = (args: string[]) => timeCommand(['runc', '--root', roots.runc, ...args], { env });
    // each step's times too (warm-up rounds included: medians), to show where a lifecycle's time goes
    const steps = new Map<string, number[]>();
    const step = (who: string, what: string, ms: number): number => {
      const k = `${who} ${what}`;
      if (!steps.has(k)) steps.set(k, []);
      steps.get(k)!.push(ms);
      return ms;
    };
    const lifecycle = (who: string, call: (args: string[]) => number) => () => {
      const id = `c${n++}`;
      return step(who, 'create', call(['create', '--bundle', dir, id])) + step(who, 'start', call(['start', id])) + step(who, 'delete --force', call(['delete', '--force', id]));
    };
    const runRows = compare([
      { name: 'runc run /bin/true', run: () => runc(['run', '--bundle', dir, `r${n++}`]) },
      { name: 'berth run, warm', run: () => warm(['run', '--bundle', dir, `w${n++}`]) },
      { name: 'berth run, cold', run: () => cold(['run', '--bundle', dir, `k${n++}`]) },
      { name: 'node -e 0', run: () => timeCommand([process.execPath, '-e', '0'], { env }) },
    ], rounds);
    const lifeRows = compare([
      { name: 'runc create+start+delete', run: lifecycle('runc', runc) },
      { name: 'berth create+start+delete, warm', run: lifecycle('berth warm', warm) },
      { name: 'berth create+start+delete, cold', run: lifecycle('berth cold', cold) },
    ], rounds);
    console.log(`# ${os.cpus().length} cores, ${os.cpus()[0].model}, kernel ${os.release()}, load ${os.loadavg()[0].toFixed(1)}`);
    console.log(`# node ${process.version}; ${execFileSync('runc', ['--version'], { encoding: 'utf8' }).split('\n')[0]}`);
    report(runRows, 'runc run /bin/true');
    report(lifeRows, 'runc create+start+delete');
    report([...steps].map(([k, ms]) => stats(`  ${k}`, ms)));
    const afterBench = rssKb(server.child.pid!);
    const warmRuns = n;
    // BENCH_CONTAINERS=1000: that many more warm runs, for the server's RSS after them
    const more = Number(process.env.BENCH_CONTAINERS ?? 0);
    for (let i = 0; i < more; i++) warm(['run', '--bundle', dir, `m${n++}`]);
    console.log(`# server RSS: idle ${(idleRss / 1024).toFixed(1)} MB, after the rows above (${warmRuns} containers in all) ${(afterBench / 1024).toFixed(1)} MB` +
      (more ? `, after ${more} more warm runs ${(rssKb(server.child.pid!) / 1024).toFixed(1)} MB` : ''));
  } finally {
    await server.stop();
    removeCgroupParent(cgroup);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: Error) => { console.error(`bench: ${e.message}`); process.exitCode = 1; });
