// Benchmark, run on demand (root): iperf3 TCP throughput pod-to-pod across two lab nodes for each way the
// agent forwards (plain BGP routes, flannel's host-gw, flannel's VXLAN, the BGP backend's VXLAN and IPIP
// "always"), against the plain veth limit (two namespaces joined by one veth pair, no node between), all
// labs up at once and the runs interleaved, so a busy machine hurts every row alike.
//   node dist/bench/encap-iperf.js [runs] [seconds]
// A mode the kernel cannot do (IPIP without CONFIG_NET_IPIP) is reported as such, not measured.
import { ChildProcess } from 'node:child_process';
import { iperf as iperfFor, median } from './iperf';
import { Lab } from '../lib/lab/lab';
import type { LabNetwork } from '../lib/lab/state';
import { ipIn, runIn, spawnIn } from '../lib/lab/sh';
import { addNamespace, deleteNamespace } from '../lib/lab/topology';

const RUNS = Number(process.argv[2] ?? 3);
const SECONDS = Number(process.argv[3] ?? 5);

interface Mode { name: string; network: LabNetwork; agentArgs: string[] }

const MODES: Mode[] = [
  { name: 'direct (bgp)', network: 'bgp', agentArgs: [] },
  { name: 'host-gw', network: 'host-gw', agentArgs: [] },
  { name: 'vxlan (flannel)', network: 'vxlan', agentArgs: [] },
  { name: 'vxlan (bgp always)', network: 'bgp', agentArgs: ['--bgp-vxlan', 'always'] },
  { name: 'ipip (bgp always)', network: 'bgp', agentArgs: ['--bgp-ipip', 'always'] },
];

interface Path { name: string; client: string; serverIp: string; mtu: number }
const iperf = (client: string, ip: string): number => iperfFor(client, ip, SECONDS);

async function main(): Promise<void> {
  const tag = process.pid % 1000;
  const labs: string[] = [];
  const servers: ChildProcess[] = [];
  const veth = [`bench-veth-a-${tag}`, `bench-veth-b-${tag}`];
  const cleanup = async (): Promise<void> => {
    for (const s of servers) s.kill('SIGKILL');
    for (const l of labs) await Lab.down(l).catch(() => undefined);
    for (const ns of veth) deleteNamespace(ns);
  };
  process.once('SIGINT', () => { void cleanup().then(() => process.exit(130)); });
  const paths: Path[] = [];
  const unavailable: { name: string; why: string }[] = [];
  try {
    // the limit: one veth pair, namespace to namespace
    for (const ns of veth) addNamespace(ns);
    ipIn(veth[0], 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', veth[1]);
    ipIn(veth[0], 'addr', 'add', '10.98.0.1/24', 'dev', 'eth0');
    ipIn(veth[1], 'addr', 'add', '10.98.0.2/24', 'dev', 'eth0');
    for (const ns of veth) ipIn(ns, 'link', 'set', 'eth0', 'up');
    servers.push(spawnIn(veth[1], 'iperf3', ['-s'], { stdio: 'ignore' }));
    paths.push({ name: 'plain veth (limit)', client: veth[0], serverIp: '10.98.0.2', mtu: 1500 });
    for (const [i, m] of MODES.entries()) {
      const name = `ebench${tag}${i}`;
      labs.push(name);
      try {
        const lab = await Lab.up({ name, nodes: 2, network: m.network, agentArgs: m.agentArgs });
        const a = lab.addPod('n1', 'a');
        const b = lab.addPod('n2', 'b');
        servers.push(spawnIn(b.ns, 'iperf3', ['-s'], { stdio: 'ignore' }));
        paths.push({ name: m.name, client: a.ns, serverIp: b.ip, mtu: lab.settings('n1').mtu });
      } catch (e) {
        unavailable.push({ name: m.name, why: (e as Error).message.split('\n')[0] });
        await Lab.down(name).catch(() => undefined);
      }
    }
    await new Promise((r) => setTimeout(r, 500));
    for (const p of paths) if (runIn(p.client, 'ping', ['-c', '1', '-W', '2', p.serverIp]).status !== 0) throw new Error(`${p.name}: no ping to ${p.serverIp}`);
    const res = paths.map(() => [] as number[]);
    for (let r = 0; r < RUNS; r++) paths.forEach((p, i) => res[i].push(iperf(p.client, p.serverIp) / 1e6));
    const limit = median(res[0]);
    console.log(`iperf3 TCP, ${SECONDS} s x ${RUNS} runs (interleaved), pod on n1 -> pod on n2, one underlay subnet`);
    paths.forEach((p, i) => {
      const m = median(res[i]);
      console.log(`${p.name.padEnd(20)} mtu ${String(p.mtu).padEnd(5)} median ${m.toFixed(0).padStart(6)} Mbit/s  ${(m / limit).toFixed(3)} of veth  runs ${res[i].map((x) => x.toFixed(0)).join(' ')}`);
    });
    for (const u of unavailable) console.log(`${u.name.padEnd(20)} not measured: ${u.why}`);
    console.log(JSON.stringify({ bench: 'encap-iperf', runs: RUNS, seconds: SECONDS, rows: paths.map((p, i) => ({ mode: p.name, mtu: p.mtu, mbps: res[i], ofVeth: median(res[i]) / limit })), unavailable }));
  } finally {
    await cleanup();
  }
}

main().catch((e: Error) => {
  console.error(`encap-iperf: ${e.message}`);
  process.exitCode = 1;
});
