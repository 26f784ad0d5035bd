// `berth run` of /bin/true against `runc run` (Debian runc) on the same busybox bundle, and `berth state`
// against a bare `node -e 0` (the start-up overhead every runtime command pays). Run as root:
//   node dist/bench/runtime-cli.js [rounds]
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { makeRootfs, baseSpec } from '../test/helpers/bundle';
import { clientEnv, compare, report, timeCommand } from './harness';

const rounds = Number(process.argv[2] ?? 30);
const berth = path.resolve(__dirname, '..', '..', 'bin', 'berth');
// BERTH_BASELINE=<another checkout's bin/berth>: the same rows for it, interleaved in the same run (before/after)
const baseline = process.env.BERTH_BASELINE;
// bin/berth is the cold path: it must not start a server for the bench's root
const env = clientEnv({ BERTH_NO_SERVER: '1' });
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-bench-'));
try {
  makeRootfs(path.join(dir, 'rootfs'));
  const spec = baseSpec(['/bin/true']);
  // runc (like berth) places relative cgroup paths below its own cgroup
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(spec));
  const berthRoot = path.join(dir, 'berth-state');
  const runcRoot = path.join(dir, 'runc-state');
  let n = 0;
  const rows = compare([
    { name: 'runc run /bin/true', run: () => timeCommand(['runc', '--root', runcRoot, 'run', '--bundle', dir, `r${n++}`]) },
    { name: 'berth run /bin/true', run: () => timeCommand([berth, '--root', berthRoot, 'run', '--bundle', dir, `b${n++}`], { env }) },
    ...(baseline ? [{ name: 'baseline berth run /bin/true', run: () => timeCommand([baseline, '--root', berthRoot, 'run', '--bundle', dir, `b${n++}`], { env }) }] : []),
  ], rounds);
  console.log(`# ${os.cpus().length} cores, ${os.cpus()[0].model}, kernel ${os.release()}, load ${os.loadavg()[0].toFixed(1)}`);
  console.log(`# runc: ${execFileSync('runc', ['--version'], { encoding: 'utf8' }).split('\n')[0]}`);
  report(rows, 'runc run /bin/true');
  const startup = compare([
    { name: 'node -e 0', run: () => timeCommand([process.execPath, '-e', '0']) },
    // a missing id exits 1 by design: the cost is reading the state root and printing the error
    { name: 'berth state (missing id)', run: () => timeCommand([berth, '--root', berthRoot, 'state', 'none'], { expectStatus: 1, env }) },
    { name: 'berth --version', run: () => timeCommand([berth, '--version'], { env }) },
    ...(baseline ? [
      { name: 'baseline berth state (missing id)', run: () => timeCommand([baseline, '--root', berthRoot, 'state', 'none'], { expectStatus: 1, env }) },
      { name: 'baseline berth --version', run: () => timeCommand([baseline, '--version'], { env }) },
    ] : []),
  ], rounds);
  report(startup, 'node -e 0');
  console.log(`# berth state overhead over node -e 0: ${(startup[1].median - startup[0].median).toFixed(1)} ms (budget 10 ms)`);
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
