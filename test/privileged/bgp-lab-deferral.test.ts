// RFC 4724 §4.1 on the agent's own restart: route selection waits for the peers' End-of-RIB. A 2-node lab
// (n1, n2: iBGP mesh); n1 also peers over eBGP with a BIRD top-of-rack router (tor) that originates
// 10.99.1.0/24 (tor answers 10.99.1.1) and 10.99.2.0/24. n1 restarts (SIGTERM, then start) while tor drops
// BGP from n1 (an nft rule in tor's namespace), so tor's session comes up late. Meanwhile tor withdraws
// 10.99.2.0/24. While selection is deferred, n1's kernel keeps what its previous run installed, pings across
// keep answering, and n1 sends n2 nothing (n2 keeps n1's routes stale). Once tor is let through, its
// End-of-RIB ends the deferral and one reconcile removes 10.99.2.0/24; a second restart shows the timer
// ending it when tor never comes back. The control: BIRD (ctl, another eBGP peer of tor) restarting
// gracefully (`birdc graceful restart`, `bird -R`, its kernel protocol in graceful-restart mode) behind the
// same rule keeps and then drops the same kernel routes at the same points.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Lab } from '../../lib/lab/lab';
import type { Pod } from '../../lib/lab/pods';
import { restartLabBirdGracefully, startLabBird, type LabRouter } from '../../lib/lab/bird';
import { runIn } from '../../lib/lab/sh';
import { agentLog, flood100pps, testLab, within } from '../helpers/lab';
import { program } from '../helpers/frontend';

const TOR_IP = '10.250.0.251';
const CTL_IP = '10.250.0.252';
const KEPT = '10.99.1.0/24';
const GONE = '10.99.2.0/24';
const DEFERRAL_S = 25;
const BERTH = program('berth');
const COMMON = ['--bgp-hold-time', '9', '--bgp-gr-time', '60'];
const n1Flags = (deferral: number): string[] => [...COMMON, '--bgp-peer', `${TOR_IP}@65000`, '--bgp-import', '10.99.0.0/16', '--bgp-selection-deferral', String(deferral)];

const torConf = (lab: Lab, statics: string[]): string => `
router id ${TOR_IP};
log stderr { error, fatal };
protocol device {}
protocol static { ipv4; ${statics.map((p) => `route ${p} blackhole;`).join(' ')} }
# the way back to the pods: the nodes' blocks into tor's kernel
protocol kernel { ipv4 { export where source = RTS_BGP; }; }
template bgp peer {
  local ${TOR_IP} as 65000;
  hold time 9;
  connect retry time 2;
  graceful restart on;
  ipv4 { import all; export where source = RTS_STATIC; };
}
protocol bgp n1 from peer { neighbor ${lab.node('n1').ip} as 64512; }
protocol bgp ctl from peer { neighbor ${CTL_IP} as 65010; }
`;

const ctlConf = (waitS: number): string => `
router id ${CTL_IP};
log stderr { error, fatal };
graceful restart wait ${waitS};
protocol device {}
protocol kernel { graceful restart; ipv4 { export all; }; }
protocol bgp tor {
  local ${CTL_IP} as 65010;
  neighbor ${TOR_IP} as 65000;
  hold time 9;
  connect retry time 2;
  graceful restart on;
  ipv4 { import all; export none; };
}
`;

let lab: Lab;
let tor: LabRouter;
let ctl: LabRouter;
const pods: Record<string, Pod> = {};

t.before(async () => {
  // n1's lease must outlive a restart of n1 and of the BIRD control together, slow on a loaded CI machine:
  // had it expired, n2 would drop n1 as a peer and wait for its deferred selection to learn its block again
  lab = await testLab(t, { nodes: 2, network: 'bgp', ttlS: 30, intervalS: 0.5, agents: false, tag: 'sd' });
  tor = await startLabBird(lab.state, 'tor', TOR_IP, torConf(lab, [KEPT, GONE]));
  runIn(tor.ns, 'ip', ['addr', 'add', '10.99.1.1/32', 'dev', 'lo']);
  ctl = await startLabBird(lab.state, 'ctl', CTL_IP, ctlConf(DEFERRAL_S));
  await lab.startAgents(['n2'], COMMON);
  await lab.startAgents(['n1'], n1Flags(DEFERRAL_S));
  pods.a = lab.addPod('n1', 'a');
  pods.b = lab.addPod('n2', 'b');
});

/** the kernel's unicast routes of one protocol in a namespace, as `ip -j route` lists them */
const kernel = (ns: string, proto: string): string[] =>
  (JSON.parse(runIn(ns, 'ip', ['-j', '-4', 'route', 'show', 'proto', proto]).stdout || '[]') as { dst: string; type?: string }[]).filter((r) => r.type !== 'blackhole').map((r) => r.dst);
const n1Kernel = (): string[] => kernel(lab.node('n1').ns, '186');
const ctlKernel = (): string[] => kernel(ctl.ns, 'bird');
const both = (): { n1: string[]; ctl: string[] } => ({ n1: n1Kernel().filter((p) => p.startsWith('10.99.')).sort(), ctl: ctlKernel().filter((p) => p.startsWith('10.99.')).sort() });

/** tor drops BGP from and to n1 and ctl (their sessions come up late), or lets it through again */
function gate(on: boolean): void {
  const peers = `{ ${lab.node('n1').ip}, ${CTL_IP} }`;
  const rules = on
    ? `table inet sdgate {\n chain in {\n  type filter hook input priority 0; policy accept;\n  ip saddr ${peers} tcp dport 179 drop\n  ip saddr ${peers} tcp sport 179 drop\n }\n}\n`
    : 'delete table inet sdgate\n';
  const r = runIn(tor.ns, 'nft', ['-f', '-'], { input: rules });
  if (r.status !== 0) throw new Error(`nft: ${r.stderr}`);
}

interface Selection { family: string; waitingFor: string[]; secondsLeft: number }
const waitingForTorOnly = (status: Selection[]): boolean => status.length === 2 && status.every((f) => f.waitingFor.join() === TOR_IP);
const selection = (): Selection[] => (JSON.parse(fs.readFileSync(path.join(lab.node('n1').runDir, 'bgp.json'), 'utf8')) as { selectionDeferred?: Selection[] }).selectionDeferred ?? [];
/** n2's view of the routes it learnt from n1: stale until n1's End-of-RIB */
const n2FromN1 = (): { prefix: string; stale: boolean }[] =>
  JSON.parse(execFileSync(BERTH, ['bgp', 'routes', '--json', '--all', '--peer', lab.node('n1').ip, '--run-dir', lab.node('n2').runDir], { encoding: 'utf8' })) as { prefix: string; stale: boolean }[];
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * SIGTERM n1's agent and BIRD ctl's graceful restart, both held back from tor, then both started again.
 * Returns each one's kernel routes as soon as it is back: a loaded machine can take seconds to start n1, and
 * ctl's wait runs meanwhile.
 */
async function restartBoth(n1Deferral: number, ctlWait: number): Promise<{ n1: string[]; ctl: string[] }> {
  await lab.stopAgent('n1', 'SIGTERM');
  fs.writeFileSync(path.join(path.dirname(ctl.socket), 'bird.conf'), ctlConf(ctlWait));
  // the sessions are closed (no Cease) before tor starts dropping: tor keeps their routes as a restart
  ctl = await restartLabBirdGracefully(ctl, async () => gate(true));
  const ctlBack = ctlKernel().filter((p) => p.startsWith('10.99.')).sort();
  await lab.startAgents(['n1'], n1Flags(n1Deferral));
  return { n1: n1Kernel().filter((p) => p.startsWith('10.99.')).sort(), ctl: ctlBack };
}

t.test('before: n1 and the BIRD control both have both of tor\'s prefixes in the kernel', async (t) => {
  let s = both();
  t.ok(await within(20_000, () => { s = both(); return s.n1.length === 2 && s.ctl.length === 2; }) >= 0, JSON.stringify(s));
  t.same(s, { n1: [KEPT, GONE], ctl: [KEPT, GONE] });
  t.ok(await within(10_000, () => runIn(pods.a.ns, 'ping', ['-c', '1', '-W', '1', '10.99.1.1']).status === 0) >= 0, 'a (n1) -> tor\'s 10.99.1.1');
  t.ok(await within(10_000, () => n2FromN1().some((r) => r.prefix === lab.settings('n1').subnet && !r.stale)) >= 0, 'n2 has n1\'s block, fresh');
});

t.test('a restart while tor comes up late: kernel routes kept, 0 pings lost, nothing sent early; tor\'s End-of-RIB ends it', async (t) => {
  const seen: { n1: string[]; ctl: string[] }[] = [];
  let status: Selection[] = [];
  let n2Stale = false;
  let peersText = '';
  let release!: () => void;
  const windowDone = new Promise<void>((r) => { release = r; });
  const flood = await Promise.all([
    flood100pps(pods.a.ns, '10.99.1.1', async () => {
      await restartBoth(DEFERRAL_S, DEFERRAL_S);
      // the window: tor is held back for 6 s, during which it withdraws GONE
      for (let i = 0; i < 12; i++) {
        seen.push(both());
        if (i === 2) {
          fs.writeFileSync(path.join(path.dirname(tor.socket), 'bird.conf'), torConf(lab, [KEPT]));
          tor.birdc('configure');
        }
        // from 2 s on, and again until n2's End-of-RIB is in (a loaded machine brings n2's session up late)
        if (i >= 4 && !waitingForTorOnly(status)) {
          status = selection();
          const fromN1 = n2FromN1();
          n2Stale = fromN1.length > 0 && fromN1.every((r) => r.stale);
          peersText = execFileSync(BERTH, ['bgp', 'peers', '--run-dir', lab.node('n1').runDir], { encoding: 'utf8' });
        }
        await sleep(500);
      }
      // both sides' connection attempts now meet (a collision): the one dropped must not reach tor as a
      // second connection, which tor would take for another restart of n1 and drop n1's routes
      gate(false);
      release();
    }),
    flood100pps(pods.a.ns, pods.b.ip, () => windowDone),
  ]);
  t.ok(seen.every((s) => s.n1.join() === [KEPT, GONE].join()), `n1: both prefixes stay in the kernel while selection waits: ${JSON.stringify(seen.map((s) => s.n1))}`);
  t.ok(seen.every((s) => s.ctl.join() === [KEPT, GONE].join()), `BIRD control: the same: ${JSON.stringify(seen.map((s) => s.ctl))}`);
  t.same(status.map((f) => [f.family, f.waitingFor]), [['ipv4', [TOR_IP]], ['ipv6', [TOR_IP]]], 'status: waiting for tor only (n2 sent its End-of-RIB)');
  t.ok(status.every((f) => f.secondsLeft > 0 && f.secondsLeft <= DEFERRAL_S), `time left shown: ${status.map((f) => f.secondsLeft).join(', ')} s`);
  t.ok(n2Stale, 'n2 still holds n1\'s routes stale: n1 advertised nothing before its selection');
  t.match(peersText, new RegExp(`^Route selection deferred \\(RFC 4724\\) for ipv4: End-of-RIB awaited from ${TOR_IP.replace(/\./g, '\\.')}, at most \\d+ s more$`, 'm'), peersText);
  t.match(peersText, new RegExp(`^${TOR_IP.replace(/\./g, '\\.')}\\s+BGP\\s+start .*awaiting End-of-RIB \\(ipv4, ipv6\\)`, 'm'), 'tor\'s line says its End-of-RIB is awaited');
  let after = both();
  t.ok(await within(20_000, () => { after = both(); return after.n1.join() === KEPT && after.ctl.join() === KEPT; }) >= 0, `after tor's End-of-RIB: ${JSON.stringify(after)}`);
  t.same(after, { n1: [KEPT], ctl: [KEPT] }, 'the withdrawn prefix is removed, the other kept: berth and BIRD alike');
  const done = agentLog(lab, 'n1').flatMap((l) => (Array.isArray(l.changes) ? (l.changes as string[]) : [])).filter((c) => c.startsWith('route selection done for IPv4'));
  t.match(done.at(-1), /End-of-RIB from every peer awaited/, 'ended by End-of-RIB, not the timer');
  t.same(selection(), [], 'nothing deferred any more');
  t.ok(await within(5000, () => n2FromN1().every((r) => !r.stale)) >= 0, 'n2 got n1\'s table and End-of-RIB after the selection');
  for (const [to, r] of [['tor', flood[0]], ['b', flood[1]]] as const) {
    // the window lasts 7 s or more; a loaded machine stretches ping's 10 ms interval
    t.ok(r.sent >= 350, `${r.sent} pings to ${to}`);
    t.equal(r.received, r.sent, `a -> ${to}: no ping lost (${r.received}/${r.sent})`);
  }
});

t.test('a restart while tor never comes back: the timer ends the deferral and tor\'s routes go (BIRD: the same)', async (t) => {
  const TIMER_S = 12;
  // tor originates KEPT again; n1 and ctl are held back from it from their restart to the end
  fs.writeFileSync(path.join(path.dirname(tor.socket), 'bird.conf'), torConf(lab, [KEPT, GONE]));
  tor.birdc('configure');
  t.ok(await within(15_000, () => both().n1.length === 2 && both().ctl.length === 2) >= 0, 'both prefixes back first');
  const start = Date.now();
  const early = await restartBoth(TIMER_S, TIMER_S);
  t.same(early, { n1: [KEPT, GONE], ctl: [KEPT, GONE] }, 'kept at first');
  let gone = both();
  t.ok(await within((TIMER_S + 10) * 1000, () => { gone = both(); return gone.n1.length === 0 && gone.ctl.length === 0; }) >= 0, `removed after the timer: ${JSON.stringify(gone)}`);
  const took = (Date.now() - start) / 1000;
  t.ok(took >= TIMER_S - 1, `not before the timer (${took.toFixed(1)} s after the restart, timer ${TIMER_S} s)`);
  const done = agentLog(lab, 'n1').flatMap((l) => (Array.isArray(l.changes) ? (l.changes as string[]) : [])).filter((c) => c.startsWith('route selection done for IPv4'));
  t.match(done.at(-1), /the deferral timer ran out/);
  t.ok(await within(5000, () => n2FromN1().some((r) => r.prefix === lab.settings('n1').subnet && !r.stale)) >= 0, 'n1 sent n2 its table at the timer');
  t.equal(runIn(pods.a.ns, 'ping', ['-c', '1', '-W', '1', pods.b.ip]).status, 0, 'a -> b');
  gate(false);
});
