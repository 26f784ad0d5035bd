// Benchmark: berth-ipam against the reference host-local (Debian's /usr/lib/cni/host-local), one fresh
// process per call as a runtime would run them, plus a bare `node` start for the start-up budget.
// Run: node dist/bench/cni-ipam.js [runs]   (no root needed; everything under a temp dir)
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');
const RUNS = Number(process.argv[2] ?? 30);
const HOST_LOCAL = '/usr/lib/cni/host-local';

function time(file: string, args: string[], env: Record<string, string>, input?: string): number {
  const start = process.hrtime.bigint();
  execFileSync(file, args, { env: { ...process.env, ...env }, input, stdio: ['pipe', 'ignore', 'inherit'] });
  return Number(process.hrtime.bigint() - start) / 1e6;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
}

function main(): void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-bench-ipam-'));
  try {
    // a private copy of the addon, so a rebuild elsewhere in the tree cannot disturb the runs
    const addon = path.join(dir, 'berth_native.node');
    fs.copyFileSync(path.join(ROOT, 'native', 'build', 'Release', 'berth_native.node'), addon);
    const empty = path.join(dir, 'empty.js');
    fs.writeFileSync(empty, '');
    const conf = (type: string, name: string) => JSON.stringify({
      cniVersion: '1.0.0', name, type, ipam: { type, dataDir: dir, ranges: [[{ subnet: '10.200.0.0/16' }]] },
    });
    const env = (cmd: string, i: number) => ({
      BERTH_NATIVE: addon, CNI_COMMAND: cmd, CNI_CONTAINERID: `bench${i}`, CNI_NETNS: '/x', CNI_IFNAME: 'eth0', CNI_PATH: '/x',
    });
    const bin = path.join(ROOT, 'bin', 'berth-ipam');
    const rows: Record<string, number[]> = { 'node (empty script)': [], 'berth-ipam VERSION': [], 'berth-ipam ADD': [], 'berth-ipam DEL': [] };
    const haveRef = fs.existsSync(HOST_LOCAL);
    if (haveRef) Object.assign(rows, { 'host-local ADD': [], 'host-local DEL': [] });
    // interleaved, so load changes on the machine hit every row alike
    for (let i = 0; i < RUNS; i++) {
      rows['node (empty script)'].push(time(process.execPath, [empty], {}));
      rows['berth-ipam VERSION'].push(time(bin, [], { CNI_COMMAND: 'VERSION' }));
      rows['berth-ipam ADD'].push(time(bin, [], env('ADD', i), conf('berth-ipam', 'bn')));
      rows['berth-ipam DEL'].push(time(bin, [], env('DEL', i), conf('berth-ipam', 'bn')));
      if (haveRef) {
        rows['host-local ADD'].push(time(HOST_LOCAL, [], env('ADD', i), conf('host-local', 'hl')));
        rows['host-local DEL'].push(time(HOST_LOCAL, [], env('DEL', i), conf('host-local', 'hl')));
      }
    }
    const base = median(rows['node (empty script)']);
    for (const [name, xs] of Object.entries(rows)) {
      const m = median(xs);
      console.log(`${name.padEnd(22)} median ${m.toFixed(1).padStart(6)} ms   vs node ${(m - base >= 0 ? '+' : '') + (m - base).toFixed(1)} ms`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main();
