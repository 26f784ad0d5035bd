// Benchmark, run on demand (root): start-up cost of the berth plugins against a bare `node -e 0`, and
// ADD+DEL latency of berth-bridge against the reference bridge plugin, all inside netns we create.
//   node dist/bench/cni-bridge.js [iterations]
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { cni, CNI_PATH, createNetns } from '../test/helpers/netns';

const N = Number(process.argv[2] ?? 20);

function stats(ms: number[]): string {
  const s = [...ms].sort((a, b) => a - b);
  return `min ${s[0].toFixed(1)} ms  median ${s[Math.floor(s.length / 2)].toFixed(1)} ms`;
}

function time(fn: () => void): number {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

function startup(): void {
  const bin = CNI_PATH.split(':')[0];
  const runs: Record<string, string[]> = {
    'node -e 0': [process.execPath, '-e', '0'],
    'berth-bridge VERSION': [path.join(bin, 'berth-bridge')],
    'berth-portmap VERSION': [path.join(bin, 'berth-portmap')],
    'reference bridge VERSION': ['/usr/lib/cni/bridge'],
  };
  const env = { ...process.env, CNI_COMMAND: 'VERSION' };
  const res: Record<string, number[]> = {};
  // interleaved, so a busy machine hurts every candidate alike
  for (let i = 0; i < N; i++) {
    for (const [name, [cmd, ...args]] of Object.entries(runs)) (res[name] ??= []).push(time(() => spawnSync(cmd, args, { env })));
  }
  for (const [name, ms] of Object.entries(res)) console.log(`${name.padEnd(28)} ${stats(ms)}`);
}

function addDel(): void {
  const node = createNetns('bench');
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-bench-'));
  try {
    const candidates: [string, string, object][] = [
      ['berth-bridge + berth-ipam', 'berth-bridge', { cniVersion: '1.1.0', name: 'b1', type: 'berth-bridge', bridge: 'br-b1', isGateway: true, ipam: { type: 'berth-ipam', ranges: [[{ subnet: '10.98.0.0/24' }]], dataDir } }],
      ['berth-bridge + host-local', 'berth-bridge', { cniVersion: '1.0.0', name: 'b2', type: 'berth-bridge', bridge: 'br-b2', isGateway: true, ipam: { type: 'host-local', subnet: '10.98.1.0/24', dataDir } }],
      ['reference bridge + host-local', 'bridge', { cniVersion: '1.0.0', name: 'b3', type: 'bridge', bridge: 'br-b3', isGateway: true, ipam: { type: 'host-local', subnet: '10.98.2.0/24', dataDir } }],
    ];
    const ctr = createNetns('bench');
    try {
      for (const [label, type, conf] of candidates) {
        const add: number[] = [], del: number[] = [];
        for (let i = 0; i < N; i++) {
          let ok = true;
          add.push(time(() => { ok = cni(node, type, { command: 'ADD', containerId: `c${i}`, netns: ctr.path }, conf).status === 0; }));
          if (!ok) throw new Error(`${label}: ADD failed`);
          del.push(time(() => { cni(node, type, { command: 'DEL', containerId: `c${i}`, netns: ctr.path }, conf); }));
        }
        console.log(`${label.padEnd(30)} ADD ${stats(add)}   DEL ${stats(del)}`);
      }
    } finally {
      ctr.remove();
    }
  } finally {
    node.remove();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

console.log(`load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}, ${N} runs each`);
startup();
addDel();
