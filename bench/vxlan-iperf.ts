// Benchmark, run on demand (root): iperf3 TCP throughput pod-to-pod across two lab nodes over berth's
// VXLAN overlay (agent + berth-vxlan) against a VXLAN path built by hand with `ip` in the same lab
// (same underlay, same bridge + veth + onlink route shape, its own VNI and port), interleaved runs.
//   node dist/bench/vxlan-iperf.js [runs] [seconds]
// Goal (issue 6): berth / hand-made >= 0.9.
import { ChildProcess } from 'node:child_process';
import { iperf as iperfFor, median } from './iperf';
import { Lab } from '../lib/lab/lab';
import { ipIn, runIn, spawnIn } from '../lib/lab/sh';
import { addNamespace } from '../lib/lab/topology';
import { podNs } from '../lib/lab/names';

const RUNS = Number(process.argv[2] ?? 3);
const SECONDS = Number(process.argv[3] ?? 5);

/** The hand-made overlay: 10.99.<i>.0/24 per node, VNI 100 on port 4790, pods "h<i>". */
function handMade(lab: Lab): { client: string; server: string; serverIp: string } {
  const nodes = lab.state.nodes.slice(0, 2);
  const macs: string[] = [];
  nodes.forEach((n, i) => {
    const k = i + 1;
    ipIn(n.ns, 'link', 'add', 'vxh', 'type', 'vxlan', 'id', '100', 'local', n.ip, 'dev', 'eth0', 'dstport', '4790', 'nolearning');
    ipIn(n.ns, 'link', 'set', 'vxh', 'mtu', '1450', 'up');
    ipIn(n.ns, 'addr', 'add', `10.99.${k}.0/32`, 'dev', 'vxh');
    ipIn(n.ns, 'link', 'add', 'hbr', 'mtu', '1450', 'type', 'bridge');
    ipIn(n.ns, 'addr', 'add', `10.99.${k}.1/24`, 'dev', 'hbr');
    ipIn(n.ns, 'link', 'set', 'hbr', 'up');
    const pod = podNs(lab.state.name, n.name, `h${k}`);
    addNamespace(pod);
    ipIn(n.ns, 'link', 'add', 'hveth', 'mtu', '1450', 'type', 'veth', 'peer', 'name', 'eth0', 'mtu', '1450', 'netns', pod);
    ipIn(n.ns, 'link', 'set', 'hveth', 'master', 'hbr', 'up');
    ipIn(pod, 'addr', 'add', `10.99.${k}.2/24`, 'dev', 'eth0');
    ipIn(pod, 'link', 'set', 'eth0', 'up');
    ipIn(pod, 'route', 'add', 'default', 'via', `10.99.${k}.1`);
    macs.push(/link\/ether ([0-9a-f:]+)/.exec(ipIn(n.ns, 'link', 'show', 'vxh'))![1]);
  });
  nodes.forEach((n, i) => {
    const o = 1 - i;
    const ok = o + 1;
    ipIn(n.ns, 'route', 'add', `10.99.${ok}.0/24`, 'via', `10.99.${ok}.0`, 'dev', 'vxh', 'onlink');
    ipIn(n.ns, 'neigh', 'add', `10.99.${ok}.0`, 'lladdr', macs[o], 'dev', 'vxh', 'nud', 'permanent');
    runIn(n.ns, 'bridge', ['fdb', 'add', macs[o], 'dev', 'vxh', 'dst', nodes[o].ip, 'self', 'permanent']);
  });
  return { client: podNs(lab.state.name, 'n1', 'h1'), server: podNs(lab.state.name, 'n2', 'h2'), serverIp: '10.99.2.2' };
}
const iperf = (client: string, ip: string): number => iperfFor(client, ip, SECONDS);

async function main(): Promise<void> {
  const name = `bench${process.pid % 10000}`;
  const servers: ChildProcess[] = [];
  let lab: Lab | undefined;
  const cleanup = async (): Promise<void> => {
    for (const s of servers) s.kill('SIGKILL');
    await Lab.down(name);
  };
  process.once('SIGINT', () => { void cleanup().then(() => process.exit(130)); });
  try {
    lab = await Lab.up({ name, nodes: 2 });
    const a = lab.addPod('n1', 'a');
    const b = lab.addPod('n2', 'b');
    const hand = handMade(lab);
    for (const ns of [b.ns, hand.server]) servers.push(spawnIn(ns, 'iperf3', ['-s'], { stdio: 'ignore' }));
    await new Promise((r) => setTimeout(r, 500));
    if (runIn(hand.client, 'ping', ['-c', '1', '-W', '2', hand.serverIp]).status !== 0) throw new Error('hand-made overlay does not forward');
    const res = { berth: [] as number[], hand: [] as number[] };
    for (let i = 0; i < RUNS; i++) {
      // interleaved, so a busy machine hurts both alike
      res.berth.push(iperf(a.ns, b.ip));
      res.hand.push(iperf(hand.client, hand.serverIp));
    }
    const mb = res.berth.map((x) => x / 1e6);
    const mh = res.hand.map((x) => x / 1e6);
    const ratio = median(mb) / median(mh);
    console.log(`iperf3 TCP, ${SECONDS} s x ${RUNS} runs, pod on n1 -> pod on n2, MTU 1450`);
    console.log(`berth VXLAN     median ${median(mb).toFixed(0)} Mbit/s  runs ${mb.map((x) => x.toFixed(0)).join(' ')}`);
    console.log(`hand-made VXLAN median ${median(mh).toFixed(0)} Mbit/s  runs ${mh.map((x) => x.toFixed(0)).join(' ')}`);
    console.log(`ratio berth / hand-made: ${ratio.toFixed(3)} (goal >= 0.9)`);
    console.log(JSON.stringify({ bench: 'vxlan-iperf', runs: RUNS, seconds: SECONDS, berthMbps: mb, handMbps: mh, ratio }));
  } finally {
    await cleanup();
  }
}

main().catch((e: Error) => {
  console.error(`vxlan-iperf: ${e.message}`);
  process.exitCode = 1;
});
