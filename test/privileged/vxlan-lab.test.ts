// The "done when" for the VXLAN overlay, in a 3-node lab with the etcd store: pods (network
// namespaces attached with berth-vxlan, and a real container in one) on different nodes exchange ICMP and
// TCP, DF pings at the full MTU pass, the agents repair hand-made damage, restarts change nothing, and a
// dead agent's entries vanish from the other nodes within the lease TTL.
import t from 'tap';
import type { ChildProcess } from 'node:child_process';
import type { Lab } from '../../lib/lab/lab';
import type { Pod } from '../../lib/lab/pods';
import { runIn, spawnIn } from '../../lib/lab/sh';
import { agentLog, agentStatus, flood100pps, testLab, vxlanState, within } from '../helpers/lab';
import { runIn as runContainer } from '../helpers/run';

const TTL_S = 4;
const INTERVAL_S = 0.5;

let lab: Lab;
const pods: Record<string, Pod> = {};
const servers: ChildProcess[] = [];

t.before(async () => {
  lab = await testLab(t, { nodes: 3, store: 'etcd', ttlS: TTL_S, intervalS: INTERVAL_S, tag: 'vx' });
  pods.a = lab.addPod('n1', 'a');
  pods.b = lab.addPod('n2', 'b');
  pods.c = lab.addPod('n3', 'c');
});
t.teardown(() => { for (const s of servers) s.kill('SIGKILL'); });

const ping = (from: Pod, to: string, extra: string[] = []): boolean => runIn(from.ns, 'ping', ['-c', '1', '-W', '2', ...extra, to]).status === 0;

t.test('every node leased a distinct /24 from the cluster network and the pods got addresses from it', async (t) => {
  const subnets = ['n1', 'n2', 'n3'].map((n) => lab.settings(n).subnet);
  t.equal(new Set(subnets).size, 3, subnets.join(' '));
  for (const s of subnets) t.match(s, /^10\.244\.\d+\.0\/24$/);
  t.equal(pods.a.ip.split('.').slice(0, 3).join('.') + '.0/24', lab.settings('n1').subnet);
  t.equal(pods.b.ip.split('.').slice(0, 3).join('.') + '.0/24', lab.settings('n2').subnet);
});

t.test('pods on three nodes ping each other across the overlay', async (t) => {
  for (const [x, y] of [['a', 'b'], ['a', 'c'], ['b', 'a'], ['b', 'c'], ['c', 'a'], ['c', 'b']]) {
    t.ok(ping(pods[x], pods[y].ip), `${x} -> ${y} (${pods[y].ip})`);
  }
});

t.test('TCP between pods on different nodes, without NAT', async (t) => {
  const code = `require('net').createServer((s) => s.end(s.remoteAddress + ' hello\\n')).listen(7070, '0.0.0.0', () => console.log('ready'))`;
  const srv = spawnIn(pods.b.ns, process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  servers.push(srv);
  await new Promise<void>((resolve, reject) => { srv.stdout!.once('data', () => resolve()); srv.once('exit', () => reject(new Error('server died'))); });
  const ask = (from: Pod): string => runIn(from.ns, process.execPath, ['-e',
    `const s = require('net').connect(7070, '${pods.b.ip}'); let d = ''; s.on('data', (x) => d += x); s.on('end', () => { process.stdout.write(d); process.exit(0); }); s.on('error', () => process.exit(1)); setTimeout(() => process.exit(2), 3000);`]).stdout.trim();
  t.equal(ask(pods.a), `${pods.a.ip} hello`, 'a -> b: the server sees a\'s own address');
  t.equal(ask(pods.c), `${pods.c.ip} hello`, 'c -> b');
  // a bulk transfer crosses the overlay intact, in full-size segments
  const count = `require('net').createServer((s) => { let n = 0; s.on('data', (d) => n += d.length); s.on('end', () => s.end(String(n))); }).listen(7071, () => console.log('ready'))`;
  const sink = spawnIn(pods.b.ns, process.execPath, ['-e', count], { stdio: ['ignore', 'pipe', 'inherit'] });
  servers.push(sink);
  await new Promise<void>((resolve) => sink.stdout!.once('data', () => resolve()));
  const sent = runIn(pods.c.ns, process.execPath, ['-e',
    `const s = require('net').connect(7071, '${pods.b.ip}', () => s.end(Buffer.alloc(8 << 20, 7))); let d = ''; s.on('data', (x) => d += x); s.on('end', () => { process.stdout.write(d); process.exit(0); }); setTimeout(() => process.exit(2), 20000);`]);
  t.equal(sent.stdout.trim(), String(8 << 20), '8 MiB c -> b counted by the server');
});

t.test('container MTU is the underlay MTU minus 50; a DF ping at the full MTU passes, one byte more does not', async (t) => {
  for (const p of Object.values(pods)) {
    t.match(runIn(p.ns, 'ip', ['-o', 'link', 'show', 'eth0']).stdout, / mtu 1450 /, `${p.name} eth0 mtu`);
  }
  t.match(vxlanState(lab, 'n1').link, / mtu 1450 .*vxlan id 1 local 10\.250\.0\.1 dev eth0 .*dstport 4789 nolearning/);
  t.ok(ping(pods.a, pods.b.ip, ['-M', 'do', '-s', '1422']), 'DF ping of 1450 bytes a -> b');
  t.ok(ping(pods.c, pods.a.ip, ['-M', 'do', '-s', '1422']), 'DF ping of 1450 bytes c -> a');
  const over = runIn(pods.a.ns, 'ping', ['-c', '1', '-W', '1', '-M', 'do', '-s', '1423', pods.b.ip]);
  t.not(over.status, 0, 'DF ping of 1451 bytes fails');
  t.match(over.stderr + over.stdout, /mtu=1450|message too long/);
});

t.test('each node has exactly one route, neighbour and FDB entry per remote node', async (t) => {
  const macs: Record<string, string> = {};
  for (const n of ['n1', 'n2', 'n3']) macs[n] = /link\/ether ([0-9a-f:]+)/.exec(vxlanState(lab, n).link)![1];
  const s = vxlanState(lab, 'n1');
  const sub2 = lab.settings('n2').subnet, sub3 = lab.settings('n3').subnet;
  const gw = (sub: string): string => sub.replace('/24', '');
  t.same(s.routes, [`${sub2} via ${gw(sub2)} onlink`, `${sub3} via ${gw(sub3)} onlink`].sort());
  t.same(s.neighs, [`${gw(sub2)} lladdr ${macs.n2} PERMANENT`, `${gw(sub3)} lladdr ${macs.n3} PERMANENT`].sort());
  t.same(s.fdbs, [`${macs.n2} dst 10.250.0.2 self permanent`, `${macs.n3} dst 10.250.0.3 self permanent`].sort());
});

t.test('a route, neighbour or FDB entry deleted by hand is repaired', async (t) => {
  // The agent reconciles every INTERVAL_S, so it may repair between the delete and any look at the kernel:
  // the proof of a repair is that the delete succeeded and the agent then logged putting that entry back.
  const before = vxlanState(lab, 'n1');
  const sub2 = lab.settings('n2').subnet;
  const gw2 = sub2.replace('/24', '');
  const [fdbMac, , fdbDst] = before.fdbs.find((f) => before.neighs.some((n) => n.startsWith(`${gw2} `) && n.includes(f.split(' ')[0])))!.split(' ');
  const ns = lab.node('n1').ns;
  const repairs = async (wanted: string[]): Promise<boolean> => {
    const from = agentLog(lab, 'n1').length;
    return await within(3000, () => {
      const logged = agentLog(lab, 'n1').slice(from).flatMap((l) => (Array.isArray(l.changes) ? (l.changes as string[]) : []));
      return wanted.every((w) => logged.some((c) => c.startsWith(w)));
    }) >= 0;
  };
  const routeRepair = repairs([`route ${sub2}`]);
  t.equal(runIn(ns, 'ip', ['route', 'del', sub2]).status, 0, 'route deleted');
  t.ok(await routeRepair, 'the agent logged putting the route back (as JSON)');
  t.ok(await within(3000, () => JSON.stringify(vxlanState(lab, 'n1')) === JSON.stringify(before)) >= 0, 'route back, exactly as before');
  const l2Repair = repairs([`neigh ${gw2} lladdr ${fdbMac}`, `fdb ${fdbMac} dst ${fdbDst}`]);
  t.equal(runIn(ns, 'ip', ['neigh', 'del', gw2, 'dev', 'berth.1']).status, 0, 'neighbour deleted');
  t.equal(runIn(ns, 'bridge', ['fdb', 'del', fdbMac, 'dev', 'berth.1', 'dst', fdbDst]).status, 0, 'FDB entry deleted');
  t.ok(await l2Repair, 'the agent logged putting the neighbour and FDB entry back');
  t.ok(await within(3000, () => JSON.stringify(vxlanState(lab, 'n1')) === JSON.stringify(before)) >= 0, 'neighbour and FDB entry back, exactly as before');
  t.ok(ping(pods.a, pods.b.ip), 'a -> b after repair');
});

t.test('restarting an agent (crash, then start within the TTL) reuses its subnet and changes nothing', async (t) => {
  const before = ['n1', 'n2', 'n3'].map((n) => vxlanState(lab, n));
  const subnet = lab.settings('n2').subnet;
  const logLines = ['n1', 'n3'].map((n) => agentLog(lab, n).length);
  await lab.stopAgent('n2', 'SIGKILL');
  await lab.startAgents(['n2']);
  await new Promise((r) => setTimeout(r, 4 * INTERVAL_S * 1000));
  t.equal(lab.settings('n2').subnet, subnet, 'same subnet');
  const st = agentStatus(lab, 'n2');
  t.equal(st.totalChanges, 0, 'the new agent changed nothing in the kernel');
  t.equal(st.pid, lab.node('n2').agentPid);
  t.same(['n1', 'n2', 'n3'].map((n) => vxlanState(lab, n)), before, 'device (index, MAC), routes, neighbours, FDB identical on all nodes');
  const newLines = ['n1', 'n3'].map((n, i) => agentLog(lab, n).slice(logLines[i]).filter((l) => l.msg === 'reconciled'));
  t.same(newLines, [[], []], 'the other agents changed nothing either');
  t.ok(ping(pods.a, pods.b.ip), 'a -> b');
});

t.test('a recreated VXLAN device (new VTEP MAC) replaces the stale entries on the other nodes', async (t) => {
  const old = /link\/ether ([0-9a-f:]+)/.exec(vxlanState(lab, 'n3').link)![1];
  runIn(lab.node('n3').ns, 'ip', ['link', 'del', 'berth.1']);
  let mac = '';
  t.ok(await within(5000, () => {
    const m = /link\/ether ([0-9a-f:]+)/.exec(vxlanState(lab, 'n3').link);
    mac = m?.[1] ?? '';
    return mac !== '' && mac !== old;
  }) >= 0, 'n3 recreated its device with a new MAC');
  for (const n of ['n1', 'n2']) {
    t.ok(await within(5000, () => {
      const s = vxlanState(lab, n);
      return s.fdbs.some((f) => f.startsWith(mac)) && !s.fdbs.some((f) => f.startsWith(old)) && s.neighs.some((x) => x.includes(mac)) && !s.neighs.some((x) => x.includes(old));
    }) >= 0, `${n}: new MAC in neighbour and FDB, stale one gone`);
    t.equal(vxlanState(lab, n).fdbs.length, 2, `${n}: still one FDB entry per remote`);
  }
  t.ok(await within(3000, () => ping(pods.a, pods.c.ip)), 'a -> c over the new device');
});

t.test('a busybox container in a pod namespace reaches a pod on another node', async (t) => {
  const r = await runContainer(['/bin/sh', '-c', `ip -o addr show eth0; ping -c 1 -W 2 ${pods.b.ip}`], (s) => {
    s.linux!.namespaces = s.linux!.namespaces!.map((n) => (n.type === 'network' ? { type: 'network', path: `/run/netns/${pods.a.ns}` } : n));
    s.process!.capabilities = { bounding: ['CAP_NET_RAW'], effective: ['CAP_NET_RAW'], permitted: ['CAP_NET_RAW'] };
  });
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, new RegExp(`inet ${pods.a.ip.replace(/\./g, '\\.')}/24`));
  t.match(r.stdout, /1 packets received/);
});

t.test('a crashed agent\'s route, neighbour and FDB entry disappear from the other nodes within the lease TTL', async (t) => {
  const sub3 = lab.settings('n3').subnet;
  const has = (n: string): boolean => vxlanState(lab, n).routes.some((r) => r.startsWith(sub3));
  t.ok(has('n1') && has('n2'), 'present before');
  const t0 = Date.now();
  await lab.stopAgent('n3', 'SIGKILL');
  await new Promise((r) => setTimeout(r, 1000));
  t.ok(has('n1'), 'still present 1 s later: the lease has not expired yet');
  const limit = TTL_S * 1000 + 3 * INTERVAL_S * 1000;
  t.ok(await within(limit, () => !has('n1') && !has('n2')) >= 0, 'gone on n1 and n2');
  const took = Date.now() - t0;
  t.ok(took <= limit + 500, `within TTL + reconcile (${took} ms)`);
  for (const n of ['n1', 'n2']) {
    const s = vxlanState(lab, n);
    t.equal(s.routes.length, 1, `${n}: one route left`);
    t.equal(s.neighs.length, 1, `${n}: one neighbour left`);
    t.equal(s.fdbs.length, 1, `${n}: one FDB entry left`);
  }
  t.notOk(ping(pods.a, pods.c.ip), 'a cannot reach c any more');
  t.ok(ping(pods.a, pods.b.ip), 'a still reaches b');
});

t.test('SIGTERM is a hitless restart: lease and kernel state stay, 100 pps across nodes lose nothing', async (t) => {
  const sub2 = lab.settings('n2').subnet;
  const before = vxlanState(lab, 'n2');
  const r = await flood100pps(pods.a.ns, pods.b.ip, async () => {
    await lab.stopAgent('n2', 'SIGTERM');
    await new Promise((res) => setTimeout(res, 1000));
    await lab.startAgents(['n2']);
  });
  t.ok(r.sent >= 100, `${r.sent} pings sent`);
  t.equal(r.received, r.sent, `no ping lost through the restart (${r.received}/${r.sent})`);
  t.notOk(agentLog(lab, 'n2').some((l) => l.msg === 'lease released'), 'lease not released');
  t.equal(lab.settings('n2').subnet, sub2, 'same subnet');
  t.same(vxlanState(lab, 'n2'), before, 'n2\'s FDB, neighbours and routes unchanged');
});

t.test('SIGINT makes the node leave: the lease is released at once; the restarted agent gets its old subnet back', async (t) => {
  const sub2 = lab.settings('n2').subnet;
  const has = (): boolean => vxlanState(lab, 'n1').routes.some((r) => r.startsWith(sub2));
  await lab.stopAgent('n2', 'SIGINT');
  const gone = await within(TTL_S * 1000, () => !has());
  t.ok(gone >= 0 && gone < (TTL_S * 1000) / 2, `gone from n1 in ${gone} ms, well before the TTL`);
  t.ok(agentLog(lab, 'n2').some((l) => l.msg === 'lease released'));
  await lab.startAgents(['n2']);
  t.equal(lab.settings('n2').subnet, sub2, 'same subnet after release and restart');
  t.ok(await within(3000, () => has()) >= 0, 'back on n1');
  t.ok(await within(3000, () => ping(pods.a, pods.b.ip)), 'a -> b again');
});
