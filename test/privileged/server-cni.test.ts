// CNI through `berth serve` (issue 13): the same plugin code, locks and IPAM store as the cold plugin, the
// same bytes out; a server killed mid-ADD or mid-DEL leaves nothing a DEL does not clean. The server runs
// in the test's "node" namespace, as the plugins do, and so does the client (a client elsewhere goes cold).
import t from 'tap';
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cni, createNetns, type TestNetns } from '../helpers/netns';
import type { CallResult } from '../helpers/serve-client';
import { startServer, tempRoot } from '../helpers/serve-process';
import { programDir } from '../helpers/frontend';

const CLIENT = path.join(__dirname, '..', 'helpers', 'serve-client-cli.js');
const CNI_PATH = programDir();

interface Call { command: string; containerId?: string; netns?: string }

function cniEnv(c: Call): Record<string, string> {
  return { PATH: process.env.PATH ?? '', CNI_COMMAND: c.command, CNI_CONTAINERID: c.containerId ?? 'ctr1', CNI_NETNS: c.netns ?? '', CNI_IFNAME: 'eth0', CNI_PATH, CNI_ARGS: '' };
}

/** The plugin through the server, from inside `node`. */
function warmArgs(node: TestNetns, root: string, type: string, c: Call, conf: object): string[] {
  const opts = { program: type, argv: [], env: cniEnv(c), stdin: JSON.stringify(conf), cwd: '/' };
  return [`--net=${node.path}`, process.execPath, CLIENT, root, JSON.stringify(opts)];
}
function warm(node: TestNetns, root: string, type: string, c: Call, conf: object): CallResult {
  return JSON.parse(execFileSync('nsenter', warmArgs(node, root, type, c, conf), { encoding: 'utf8', env: { PATH: process.env.PATH } })) as CallResult;
}
function cold(node: TestNetns, type: string, c: Call, conf: object): { status: number; stdout: string } {
  return cni(node, type, { ...c, ifname: 'eth0' } as Parameters<typeof cni>[2], conf);
}

// the kernel gives every new veth and bridge a random MAC: the one field two ADDs may not share
const noMacs = (s: string): string => s.replace(/"mac":"[0-9a-f:]+"/g, '"mac":"<random>"');

function owners(dataDir: string, network: string): string[] {
  const dir = path.join(dataDir, network);
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir).filter((f) => !f.startsWith('last_reserved_ip') && !f.startsWith('lock'))
    .map((f) => fs.readFileSync(path.join(dir, f), 'utf8'));
}

t.test('bridge + berth-ipam: cold and warm give the same bytes', async (t) => {
  const node = createNetns('wsnode'), a = createNetns('wsctr');
  const root = tempRoot('cni');
  const dataDir = path.join(root, 'ipam');
  const s = await startServer(root, { netns: node.path });
  t.teardown(async () => { await s.stop(); a.remove(); node.remove(); fs.rmSync(root, { recursive: true, force: true }); });
  const conf = {
    cniVersion: '1.0.0', name: 'wsnet', type: 'berth-bridge', bridge: 'br-ws', isGateway: true, ipMasq: true,
    ipam: { type: 'berth-ipam', ranges: [[{ subnet: '10.123.0.0/24' }]], dataDir },
  };
  for (const [what, c, cf] of [
    ['VERSION', { command: 'VERSION' }, conf],
    ['DEL of nothing', { command: 'DEL', containerId: 'none', netns: a.path }, conf],
    ['a config without a name', { command: 'ADD', containerId: 'x', netns: a.path }, { ...conf, name: undefined }],
    ['an unknown verb', { command: 'FROB', containerId: 'x', netns: a.path }, conf],
    ['a bad netns', { command: 'ADD', containerId: 'x', netns: '/run/netns/warm-server-none' }, conf],
  ] as [string, Call, object][]) {
    const w = warm(node, root, 'berth-bridge', c, cf);
    const k = cold(node, 'berth-bridge', c, cf);
    t.equal(w.reply?.type === 'exit' ? w.reply.status : -1, k.status, `${what}: status`);
    t.equal(w.stdout, k.stdout, `${what}: stdout`);
  }
  // ADD cold, undo it all, ADD warm from the same starting point: the same result
  const addCold = cold(node, 'berth-bridge', { command: 'ADD', containerId: 'a', netns: a.path }, conf);
  t.equal(addCold.status, 0, addCold.stdout);
  t.equal(cold(node, 'berth-bridge', { command: 'DEL', containerId: 'a', netns: a.path }, conf).status, 0);
  fs.rmSync(dataDir, { recursive: true, force: true });
  node.exec('ip', ['link', 'del', 'br-ws']);
  const addWarm = warm(node, root, 'berth-bridge', { command: 'ADD', containerId: 'a', netns: a.path }, conf);
  t.same(addWarm.reply, { type: 'exit', status: 0 }, addWarm.stdout);
  t.equal(noMacs(addWarm.stdout), noMacs(addCold.stdout), 'ADD: the same result (MACs aside)');
  t.match(a.exec('ip', ['-4', 'addr', 'show', 'eth0']), /10\.123\.0\.2\/24/, 'the address is in the container');
  const checkWarm = warm(node, root, 'berth-bridge', { command: 'CHECK', containerId: 'a', netns: a.path }, { ...conf, prevResult: JSON.parse(addWarm.stdout) });
  const checkCold = cold(node, 'berth-bridge', { command: 'CHECK', containerId: 'a', netns: a.path }, { ...conf, prevResult: JSON.parse(addWarm.stdout) });
  t.equal(checkWarm.stdout, checkCold.stdout, 'CHECK: same bytes');
  t.same(checkWarm.reply, { type: 'exit', status: checkCold.status });
  const delWarm = warm(node, root, 'berth-bridge', { command: 'DEL', containerId: 'a', netns: a.path }, conf);
  t.same(delWarm.reply, { type: 'exit', status: 0 }, delWarm.stdout);
  t.same(owners(dataDir, 'wsnet'), [], 'DEL through the server released the address');
  t.equal(a.run('ip', ['link', 'show', 'eth0']).status !== 0, true, 'and removed the interface');
});

for (const verb of ['ADD', 'DEL']) {
  t.test(`a server killed mid-${verb} leaves nothing a DEL does not clean`, async (t) => {
    const node = createNetns('wsnode');
    const ctrs = [createNetns('wsctr'), createNetns('wsctr'), createNetns('wsctr'), createNetns('wsctr')];
    const root = tempRoot(`kill-${verb}`);
    const dataDir = path.join(root, 'ipam');
    t.teardown(() => { for (const c of ctrs) c.remove(); node.remove(); fs.rmSync(root, { recursive: true, force: true }); });
    const conf = {
      cniVersion: '1.0.0', name: 'wskill', type: 'berth-bridge', bridge: 'br-wskill', isGateway: true,
      ipam: { type: 'berth-ipam', ranges: [[{ subnet: '10.124.0.0/24' }]], dataDir },
    };
    if (verb === 'DEL') {
      for (const [i, c] of ctrs.entries()) t.equal(cold(node, 'berth-bridge', { command: 'ADD', containerId: `k${i}`, netns: c.path }, conf).status, 0);
    }
    const s = await startServer(root, { netns: node.path });
    // several calls in flight, the server killed while they run (at staggered points of their work)
    const clients = ctrs.map((c, i) => spawn('nsenter', warmArgs(node, root, 'berth-bridge', { command: verb, containerId: `k${i}`, netns: c.path }, conf), { stdio: 'ignore' }));
    await new Promise((r) => setTimeout(r, 15));
    await s.stop('SIGKILL');
    await Promise.all(clients.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once('exit', r)))));
    // what a runtime does after a failed call: DEL (cold: no server now)
    for (const [i, c] of ctrs.entries()) {
      const d = cold(node, 'berth-bridge', { command: 'DEL', containerId: `k${i}`, netns: c.path }, conf);
      t.equal(d.status, 0, `DEL k${i} after the kill: ${d.stdout}`);
      t.not(c.run('ip', ['link', 'show', 'eth0']).status, 0, `k${i}: no interface left`);
    }
    t.same(owners(dataDir, 'wskill'), [], 'no allocation left');
    t.equal(node.run('ip', ['-o', 'link', 'show', 'type', 'veth']).stdout.trim(), '', 'no host veth left');
    // the next call succeeds, through a new server
    const s2 = await startServer(root, { netns: node.path });
    t.teardown(() => s2.stop());
    const again = warm(node, root, 'berth-bridge', { command: 'ADD', containerId: 'k0', netns: ctrs[0].path }, conf);
    t.same(again.reply, { type: 'exit', status: 0 }, again.stdout);
    t.match(JSON.parse(again.stdout), { ips: [{ address: /^10\.124\.0\.\d+\/24$/ }] });
  });
}
