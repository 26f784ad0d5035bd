import t from 'tap';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { program } from '../helpers/frontend';

// berth-ipam as real, separate processes racing on one store: the flock must serialise them.
const BIN = program('berth-ipam');
const N = 300;
const PARALLEL = 50;

interface Run { code: number; stdout: string }

function runIpam(env: Record<string, string>, conf: object): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(BIN, [], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', BERTH_NO_AUTOSTART: '1', CNI_PATH: '/nonexistent', ...env } });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout }));
    child.stdin.end(JSON.stringify(conf));
  });
}

/** Runs `jobs` with at most `limit` in flight. */
async function pool<T>(jobs: (() => Promise<T>)[], limit: number): Promise<T[]> {
  const out: T[] = new Array(jobs.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < jobs.length) {
      const i = next++;
      out[i] = await jobs[i]();
    }
  };
  await Promise.all(Array.from({ length: limit }, worker));
  return out;
}

function setup(t: { teardown(fn: () => void): void }) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-ipam-race-'));
  t.teardown(() => fs.rmSync(dataDir, { recursive: true, force: true }));
  // the plugins load a private copy of the addon, so a `node-gyp rebuild` elsewhere in the tree mid-run
  // cannot fail them
  const addon = path.join(dataDir, 'berth_native.node');
  fs.copyFileSync(path.resolve(__dirname, '..', '..', '..', 'native', 'build', 'Release', 'berth_native.node'), addon);
  const conf = { cniVersion: '1.1.0', name: 'race', type: 'berth-ipam', ipam: { type: 'berth-ipam', dataDir, subnet: '10.123.0.0/23' } };
  const allocations = () => fs.readdirSync(path.join(dataDir, 'race')).filter((f) => !f.startsWith('last_reserved'));
  const env = (verb: string, i: number) => ({ BERTH_NATIVE: addon, CNI_COMMAND: verb, CNI_CONTAINERID: `ctr${i}`, CNI_NETNS: '/run/netns/none', CNI_IFNAME: 'eth0' });
  return { dataDir, conf, allocations, env };
}

t.test(`${N} concurrent ADD processes get ${N} distinct addresses; ${N} DELs free them all`, async (t) => {
  // 600 Node processes: minutes on a busy two-CPU machine
  t.setTimeout(10 * 60_000);
  const s = setup(t);
  const adds = await pool(Array.from({ length: N }, (_, i) => () => runIpam(s.env('ADD', i), s.conf)), PARALLEL);
  const failed = adds.filter((r) => r.code !== 0);
  t.equal(failed.length, 0, failed[0]?.stdout ?? 'all ADDs succeeded');
  const addrs = adds.filter((r) => r.code === 0).map((r) => JSON.parse(r.stdout).ips[0].address as string);
  t.equal(new Set(addrs).size, N, 'all addresses distinct');
  t.ok(addrs.every((a) => /^10\.123\.[01]\.\d+\/23$/.test(a)), 'all inside the /23');
  t.equal(s.allocations().length, N, 'one file per allocation');
  const owners = new Set(s.allocations().map((f) => fs.readFileSync(path.join(s.dataDir, 'race', f), 'utf8')));
  t.equal(owners.size, N, 'each file names a different container');

  const dels = await pool(Array.from({ length: N }, (_, i) => () => runIpam(s.env('DEL', i), s.conf)), PARALLEL);
  t.equal(dels.filter((r) => r.code !== 0).length, 0, 'all DELs succeeded');
  t.same(s.allocations(), [], 'zero allocations left');
});

t.test('GC in a separate process removes allocations of containers not in the valid list', async (t) => {
  const s = setup(t);
  const adds = await pool(Array.from({ length: 40 }, (_, i) => () => runIpam(s.env('ADD', i), s.conf)), 20);
  t.equal(adds.filter((r) => r.code !== 0).length, 0);
  const valid = Array.from({ length: 10 }, (_, i) => ({ containerID: `ctr${i * 4}`, ifname: 'eth0' }));
  const gc = await runIpam({ BERTH_NATIVE: path.join(s.dataDir, 'berth_native.node'), CNI_COMMAND: 'GC' }, { ...s.conf, 'cni.dev/valid-attachments': valid });
  t.equal(gc.code, 0, gc.stdout);
  t.equal(gc.stdout, '');
  const left = s.allocations().map((f) => fs.readFileSync(path.join(s.dataDir, 'race', f), 'utf8').split('\r\n')[0]).sort();
  t.same(left, valid.map((v) => v.containerID).sort());
});
