// What the native front-end (dist/bin/berth, native/src/frontend.c) costs: with no server (connect fails,
// exec node) against bin/berth run directly, and a whole round trip to a server that answers EXIT at once
// (test/helpers/fake-serve.ts in its own process, standing in for lib/server/) against `runc --version`,
// the floor of any runc call. In the clients' environment: no NODE_EXTRA_CA_CERTS.
//   node dist/bench/frontend.js [rounds]
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync, spawn } from 'node:child_process';
import { clientEnv, compare, report, timeCommand } from './harness';

const rounds = Number(process.argv[2] ?? 40);
const install = path.resolve(__dirname, '..', '..');
const cold = path.join(install, 'bin', 'berth');
const frontend = path.join(install, 'dist', 'bin', 'berth');
const env = clientEnv({ BERTH_NO_AUTOSTART: '1' });
delete env.BERTH_NO_SERVER;

const coldRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'front-end-bench-cold-'));
const warmRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'front-end-bench-warm-'));
const fakeModule = path.join(install, 'dist', 'test', 'helpers', 'fake-serve.js');
const fake = spawn(process.execPath, ['-e', `require(${JSON.stringify(fakeModule)}).fakeServe(${JSON.stringify(warmRoot)}, { exit: 0 }).then(() => console.log('ready'))`], { stdio: ['ignore', 'pipe', 'inherit'], env });

async function main() {
  await new Promise<void>((resolve, reject) => {
    fake.once('exit', (code) => reject(new Error(`fake server exited (${code})`)));
    fake.stdout!.once('data', () => resolve());
  });
  const run = (cmd: string[]) => () => timeCommand(cmd, { env });
  const rows = compare([
    { name: 'node -e 0', run: run([process.execPath, '-e', '0']) },
    { name: 'bin/berth --version', run: run([cold, '--root', coldRoot, '--version']) },
    { name: 'front-end, no server --version', run: run([frontend, '--root', coldRoot, '--version']) },
    { name: 'runc --version', run: run(['runc', '--version']) },
    { name: 'front-end -> fake EXIT', run: run([frontend, '--root', warmRoot, 'state', 'x']) },
  ], rounds, 3);
  console.log(`# ${os.cpus().length} cores, ${os.cpus()[0].model}, kernel ${os.release()}, load ${os.loadavg()[0].toFixed(1)}`);
  console.log(`# node ${process.version}; runc: ${execFileSync('runc', ['--version'], { encoding: 'utf8' }).split('\n')[0]}`);
  report(rows.slice(0, 3), 'bin/berth --version');
  report(rows.slice(3), 'runc --version');
}

main().catch((e) => { console.error(`bench: ${e.message}`); process.exitCode = 1; }).finally(() => {
  fake.kill();
  fs.rmSync(coldRoot, { recursive: true, force: true });
  fs.rmSync(warmRoot, { recursive: true, force: true });
});
