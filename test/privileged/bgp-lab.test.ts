// Issue 7's "done when" for the BGP-routed network, in a 3-node lab (full iBGP mesh among the agents):
// pods on different nodes reach each other over plain routes (no tunnel device, no NAT, source addresses
// kept); a dead agent's block vanishes from the others within the hold time; an agent killed and restarted
// at once (graceful restart) never interrupts forwarding; `berth bgp peers|routes` show the sessions.
import t from 'tap';
import { execFileSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Lab } from '../../lib/lab/lab';
import { BIN_DIR, cniEnv, pluginConf, type Pod } from '../../lib/lab/pods';
import { nsPath } from '../../lib/lab/names';
import { runIn, spawnIn } from '../../lib/lab/sh';
import { agentLog, storedLease, testLab, within, flood100pps } from '../helpers/lab';
import { scaled } from '../../lib/lab/time-scale';
import { program } from '../helpers/frontend';

const HOLD_S = 9;
const TTL_S = 6;
const AGENT_FLAGS = ['--bgp-hold-time', String(HOLD_S), '--bgp-gr-time', '60'];
const BERTH = program('berth');

let lab: Lab;
const pods: Record<string, Pod> = {};
const children: ChildProcess[] = [];

t.before(async () => {
  lab = await testLab(t, { nodes: 3, network: 'bgp', ttlS: TTL_S, intervalS: 0.5, agents: false, tag: 'bg' });
  await lab.startAgents(['n1', 'n2', 'n3'], AGENT_FLAGS);
  pods.a = lab.addPod('n1', 'a');
  pods.b = lab.addPod('n2', 'b');
  pods.c = lab.addPod('n3', 'c');
});
t.teardown(() => { for (const c of children) c.kill('SIGKILL'); });

const ping = (from: Pod, to: string): boolean => runIn(from.ns, 'ping', ['-c', '1', '-W', '1', to]).status === 0;
const bgpRoutes = (node: string): string => lab.exec(node, 'ip', ['-4', 'route', 'show', 'proto', '186']).stdout;
const block = (node: string): string => lab.settings(node).subnet;
const nodeIp = (node: string): string => lab.node(node).ip;

t.test('each node announces its block: the others install it via the node (proto 186), itself a blackhole', async (t) => {
  for (const n of ['n1', 'n2', 'n3']) {
    const r = bgpRoutes(n);
    t.match(r, new RegExp(`^blackhole ${block(n).replace(/\./g, '\\.')}`, 'm'), `${n}: blackhole for its own block`);
    for (const o of ['n1', 'n2', 'n3'].filter((x) => x !== n)) {
      t.match(r, new RegExp(`^${block(o).replace(/\./g, '\\.')} via ${nodeIp(o).replace(/\./g, '\\.')} dev eth0`, 'm'), `${n}: ${block(o)} via ${o}`);
    }
  }
});

t.test('containers get a /32 with a default route via 169.254.1.1 and the node a /32 route to them', async (t) => {
  const addr = runIn(pods.a.ns, 'ip', ['-4', '-o', 'addr', 'show', 'dev', 'eth0']).stdout;
  t.match(addr, new RegExp(`inet ${pods.a.ip.replace(/\./g, '\\.')}/32`), addr);
  t.match(runIn(pods.a.ns, 'ip', ['-4', 'route']).stdout, /^default via 169\.254\.1\.1 dev eth0/m);
  t.match(lab.exec('n1', 'ip', ['-4', 'route', 'show', `${pods.a.ip}/32`]).stdout, /dev \S+ scope link/);
  t.equal(`${pods.a.ip.split('.').slice(0, 3).join('.')}.0/24`, block('n1'), 'address from the node\'s block');
});

t.test('pods on three nodes reach each other with no tunnel device and no NAT', async (t) => {
  for (const [x, y] of [['a', 'b'], ['a', 'c'], ['b', 'a'], ['b', 'c'], ['c', 'a'], ['c', 'b']]) t.ok(ping(pods[x], pods[y].ip), `${x} -> ${y}`);
  for (const n of ['n1', 'n2', 'n3']) {
    const links = lab.exec(n, 'ip', ['-d', '-o', 'link']).stdout;
    t.notMatch(links, /\b(vxlan|ipip|gre|gretap|ip6tnl|sit|geneve|wireguard)\b/, `${n}: no tunnel device`);
    const nat = lab.exec(n, 'nft', ['list', 'ruleset']).stdout;
    t.notMatch(nat, /masquerade|snat|dnat/, `${n}: no NAT rule`);
  }
  // the server on pod b sees pod a's own address: nothing rewrote it on the way
  const srv = spawnIn(pods.b.ns, process.execPath, ['-e', `require('net').createServer((s)=>{s.end(s.remoteAddress+'\\n')}).listen(7000,'${pods.b.ip}',()=>console.log('ready'))`], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(srv);
  await new Promise<void>((r) => srv.stdout!.once('data', () => r()));
  const got = runIn(pods.a.ns, process.execPath, ['-e', `const s=require('net').connect(7000,'${pods.b.ip}');s.pipe(process.stdout)`], { timeoutMs: 5000 });
  t.equal(got.stdout.trim(), pods.a.ip, 'source address preserved end to end');
  srv.kill('SIGKILL');
});

t.test('a BGP route deleted by hand comes back within ten agent ticks (the periodic FIB resync)', async (t) => {
  const dst = block('n2');
  const changes = (from = 0): string[] => agentLog(lab, 'n1').slice(from).flatMap((l) => (Array.isArray(l.changes) ? (l.changes as string[]) : []));
  // the first reconcile comes after the graceful-restart wait; the periodic resync is what runs after it
  t.ok(await within(10_000, () => changes().includes('fib reconciled with the Loc-RIB')) >= 0, 'the first FIB reconcile is done');
  // the resync may run between the delete and any look at the kernel: the agent's log tells that it put it right
  const from = agentLog(lab, 'n1').length;
  t.equal(lab.exec('n1', 'ip', ['-4', 'route', 'del', dst, 'proto', '186']).status, 0, `deleted ${dst} on n1`);
  const ms = await within(10 * 500 + 3000, () => bgpRoutes('n1').includes(`${dst} via ${nodeIp('n2')}`));
  t.ok(ms >= 0, `back after ${ms} ms (ticks every 0.5 s)`);
  t.ok(await within(3000, () => changes(from).some((c) => /^fib: \d+ route\(s\) put right$/.test(c))) >= 0, 'the periodic resync logged the repair');
});

t.test('berth bgp peers and routes show the mesh like birdc', async (t) => {
  const run = (args: string[]): string => execFileSync(BERTH, ['bgp', ...args, '--run-dir', lab.node('n1').runDir], { encoding: 'utf8' });
  const peers = run(['peers']);
  for (const o of ['n2', 'n3']) t.match(peers, new RegExp(`${nodeIp(o).replace(/\./g, '\\.')}\\s+BGP\\s+up\\s+\\S+\\s+Established\\s+AS64512\\s+node ${o}`), `peer ${o} up`);
  const routes = run(['routes']);
  t.match(routes, new RegExp(`${block('n2').replace(/\./g, '\\.')}\\s+unicast \\[${nodeIp('n2').replace(/\./g, '\\.')}\\] \\* \\(100\\)`), routes);
  t.match(routes, new RegExp(`${block('n1').replace(/\./g, '\\.')}\\s+unicast \\[local\\] \\*`));
  const json = JSON.parse(run(['peers', '--json'])) as { state: string }[];
  t.same(json.map((p) => p.state), ['Established', 'Established']);
  t.throws(() => execFileSync(BERTH, ['bgp', 'peers', '--run-dir', '/nonexistent'], { stdio: 'pipe' }), /--run-dir/);
});

t.test('berth-bgp: errors are the spec\'s JSON naming the field; DEL removes the host route and is idempotent', async (t) => {
  const node = lab.node('n1');
  const plugin = (conf: Record<string, unknown>, cmd: string, id: string, netns: string): { status: number; out: { code?: number; msg?: string } } => {
    const r = runIn(node.ns, path.join(BIN_DIR, 'berth-bgp'), [], { input: JSON.stringify(conf), env: cniEnv(cmd, id, netns) });
    return { status: r.status, out: r.stdout.trim() ? JSON.parse(r.stdout) as { code?: number; msg?: string } : {} };
  };
  const conf = pluginConf(node);
  let r = plugin({ ...conf, ipam: { type: 'berth-ipam' } }, 'ADD', 'x', nsPath(pods.a.ns));
  t.equal(r.out.code, 7, 'ipam section: invalid config');
  t.match(r.out.msg, /^ipam: /);
  r = plugin({ ...conf, subnetFile: 'run/subnet.json' }, 'ADD', 'x', nsPath(pods.a.ns));
  t.equal(r.out.code, 7);
  t.match(r.out.msg, /^subnetFile: .*absolute/);
  r = plugin({ ...conf, subnetFile: '/nonexistent/subnet.json' }, 'ADD', 'x', nsPath(pods.a.ns));
  t.equal(r.out.code, 11, 'no agent yet: try again later');
  t.match(r.out.msg, /^subnetFile: cannot read/);
  // a second pod on n1, then DEL: its /32 route goes, a repeated DEL still succeeds
  const d = lab.addPod('n1', 'd');
  const lease = path.join(lab.settings('n1').ipamDataDir, 'berth', d.ip);
  t.ok(fs.existsSync(lease), 'address reserved in berth-ipam');
  t.match(lab.exec('n1', 'ip', ['-4', 'route', 'show', `${d.ip}/32`]).stdout, /scope link/);
  t.ok(ping(pods.b, d.ip), 'b -> d');
  lab.removePod(d);
  t.equal(lab.exec('n1', 'ip', ['-4', 'route', 'show', `${d.ip}/32`]).stdout.trim(), '', 'host route gone');
  t.notOk(fs.existsSync(lease), 'address released');
  t.equal(plugin(conf, 'DEL', 'd', '').status, 0, 'DEL again: success');
});

t.test('an agent killed and restarted at once (graceful restart) never stops forwarding', async (t) => {
  let lost = 0;
  let missing = 0;
  let probes = 0;
  let stop = false;
  const loop = (async () => {
    while (!stop) {
      probes++;
      if (!ping(pods.a, pods.c.ip)) lost++;
      if (!bgpRoutes('n1').includes(block('n3'))) missing++;
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  const before = (JSON.parse(execFileSync(BERTH, ['bgp', 'peers', '--json', '--run-dir', lab.node('n1').runDir], { encoding: 'utf8' })) as { address: string; since: string }[]).find((p) => p.address === nodeIp('n3'))!.since;
  await lab.stopAgent('n3', 'SIGKILL');
  await new Promise((r) => setTimeout(r, 1000));
  await lab.startAgents(['n3'], AGENT_FLAGS);
  await new Promise((r) => setTimeout(r, 3000));
  stop = true;
  await loop;
  const after = (JSON.parse(execFileSync(BERTH, ['bgp', 'peers', '--json', '--run-dir', lab.node('n1').runDir], { encoding: 'utf8' })) as { address: string; since: string; state: string }[]).find((p) => p.address === nodeIp('n3'))!;
  t.not(after.since, before, 'n1\'s session to n3 went down and came back');
  t.equal(after.state, 'Established');
  t.ok(probes > 10, `${probes} probes`);
  t.equal(lost, 0, 'no ping from a to c lost');
  t.equal(missing, 0, 'n3\'s block never left n1\'s kernel');
});

t.test('SIGTERM is a graceful restart: no Cease, the R bit on the way back, 100 pps across nodes lose nothing', async (t) => {
  let stopping = 0;
  let leaseAfter: number | undefined;
  const r = await flood100pps(pods.a.ns, pods.c.ip, async () => {
    stopping = Date.now();
    await lab.stopAgent('n3', 'SIGTERM');
    leaseAfter = storedLease(lab, 'n3')?.expiresAt;
    // n1 keeps n3's routes (stale) instead of dropping them as a Cease would make it
    t.ok(await within(3000, () => JSON.parse(execFileSync(BERTH, ['bgp', 'peers', '--json', '--run-dir', lab.node('n1').runDir], { encoding: 'utf8' })).some((p: { address: string; gracefulRestart: boolean }) => p.address === nodeIp('n3') && p.gracefulRestart)) >= 0, 'n1 sees n3 in graceful restart');
    await lab.startAgents(['n3'], AGENT_FLAGS);
    await new Promise((res) => setTimeout(res, 2000));
  });
  t.ok(r.sent >= 100, `${r.sent} pings sent`);
  t.equal(r.received, r.sent, `no ping lost through the restart (${r.received}/${r.sent})`);
  t.ok(bgpRoutes('n1').includes(block('n3')), 'n3\'s block still on n1');
  t.ok(agentLog(lab, 'n3').some((l) => l.msg === 'agent stopped' && l.mode === 'restart'), 'n3 stopped as a restart');
  // renewed as it stopped, not up to a third of the TTL before: the restart has the whole TTL
  t.ok(leaseAfter !== undefined && leaseAfter >= stopping + scaled(TTL_S * 1000), `lease left with a whole TTL: ${leaseAfter === undefined ? 'none' : leaseAfter - stopping} ms after the stop began`);
});

t.test('a killed agent\'s block is withdrawn from the other nodes within the hold time', async (t) => {
  await lab.stopAgent('n3', 'SIGKILL');
  const took = await Promise.all(['n1', 'n2'].map((n) => within((HOLD_S + 1) * 1000, () => !bgpRoutes(n).includes(block('n3')))));
  for (const [i, ms] of took.entries()) t.ok(ms >= 0 && ms <= HOLD_S * 1000, `n${i + 1}: withdrawn after ${ms} ms (hold time ${HOLD_S} s)`);
  t.notOk(ping(pods.a, pods.c.ip), 'c unreachable without its agent\'s routes');
  await lab.startAgents(['n3'], AGENT_FLAGS);
  t.ok(await within(10_000, () => bgpRoutes('n1').includes(block('n3'))) >= 0, 'back once n3 runs again');
  t.ok(ping(pods.a, pods.c.ip), 'a -> c again');
});
