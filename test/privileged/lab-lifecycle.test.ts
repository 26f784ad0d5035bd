// The lab itself: up, exec, status and down through the CLI, nothing left behind, cleanup after a failed
// start or a lost record, and real agents started at the same instant never sharing a subnet.
import t from 'tap';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { Lab } from '../../lib/lab/lab';
import { alive } from '../../lib/lab/procs';
import { testLab } from '../helpers/lab';
import { berth } from '../helpers/run';

const rootLinks = (): string => execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' }).replace(/\s+/g, ' ');
const namespaces = (lab: string): string[] => (fs.existsSync('/run/netns') ? fs.readdirSync('/run/netns').filter((n) => n.startsWith(`bl-${lab}-`)) : []);
const name = (tag: string): string => `${tag}${process.pid % 100000}`;

t.test('berth lab up / exec / status / down through the CLI, leaving nothing behind', async (t) => {
  const lab = name('cli');
  t.teardown(() => Lab.down(lab));
  const before = rootLinks();
  const up = await berth(['lab', 'up', '--nodes', '2', '--name', lab]);
  t.equal(up.code, 0, up.stderr);
  t.match(up.stdout, new RegExp(`lab ${lab}: 2 node\\(s\\), vxlan over embedded store`));
  t.match(up.stdout, /n1 {2}underlay 10\.250\.0\.1 {2}subnet 10\.244\.\d+\.0\/24 mtu 1450/);
  t.same(namespaces(lab).sort(), [`bl-${lab}-n1`, `bl-${lab}-n2`, `bl-${lab}-world`]);
  const state = Lab.load(lab).state;
  const pids = state.nodes.map((n) => n.agentPid!);
  t.ok(pids.every(alive), 'agents running');
  const ex = await berth(['lab', 'exec', '--name', lab, 'n1', '--', 'ping', '-c', '1', '-W', '2', '10.250.0.2']);
  t.equal(ex.code, 0, 'n1 reaches n2 on the underlay');
  const failing = await berth(['lab', 'exec', '--name', lab, 'n1', '--', 'sh', '-c', 'exit 7']);
  t.equal(failing.code, 7, 'exec passes the exit code through');
  const st = await berth(['agent', 'status', '--run-dir', state.nodes[0].runDir]);
  t.equal(st.code, 0, st.stdout + st.stderr);
  t.match(JSON.parse(st.stdout), { node: 'n1', healthy: true, running: true, peers: ['n2'], store: 'embedded', backend: 'vxlan', mtu: 1450 });
  t.equal(rootLinks(), before, 'the root namespace has no new links');
  const down = await berth(['lab', 'down', '--name', lab]);
  t.equal(down.code, 0, down.stderr);
  t.match(down.stdout, /removed 3 namespace\(s\), stopped 2 process\(es\)/);
  t.same(namespaces(lab), []);
  t.notOk(pids.some(alive), 'agents stopped');
  t.notOk(fs.existsSync(state.dir), 'lab directory removed');
  const st2 = await berth(['agent', 'status', '--run-dir', state.nodes[0].runDir]);
  t.equal(st2.code, 1, 'no status once the lab is gone');
  t.equal(rootLinks(), before);
});

t.test('a lab name in use is refused, and the running lab is untouched', async (t) => {
  const lab = await testLab(t, { nodes: 1, tag: 'dup' });
  await t.rejects(Lab.up({ name: lab.state.name, nodes: 1 }), { message: /already up/ });
  t.equal(namespaces(lab.state.name).length, 2);
  t.ok(alive(lab.state.nodes[0].agentPid!));
});

t.test('a lab whose agents cannot start is torn down, with the agent\'s reason', async (t) => {
  const lab = name('bad');
  t.teardown(() => Lab.down(lab));
  await t.rejects(Lab.up({ name: lab, nodes: 2, cidr: '10.244.0.0/33' }), { message: /agent of n\d exited: .*--network: invalid IPv4 CIDR/ });
  t.same(namespaces(lab), []);
  t.notOk(fs.existsSync(`/run/berth/lab/${lab}`));
});

t.test('down finds everything by name when the lab record is gone', async (t) => {
  const lab = await testLab(t, { nodes: 2, tag: 'lost' });
  const pids = lab.state.nodes.map((n) => n.agentPid!);
  const pod = lab.addPod('n1', 'p');
  t.equal(namespaces(lab.state.name).length, 4);
  fs.rmSync(path.join(lab.state.dir, 'lab.json'));
  const r = await Lab.down(lab.state.name);
  t.equal(r.namespaces.length, 4, `removed ${r.namespaces.join(' ')}`);
  t.same(namespaces(lab.state.name), []);
  t.notOk(pids.some(alive));
  t.notOk(fs.existsSync(`/run/netns/${pod.ns}`));
});

t.test('two agents started at the same instant never share a subnet (10 rounds)', async (t) => {
  const lab = await testLab(t, { nodes: 2, agents: false, tag: 'race' });
  for (let round = 0; round < 10; round++) {
    // forget the previous subnets so both race for the lowest free one
    for (const n of lab.state.nodes) fs.rmSync(path.join(n.dataDir, 'last-lease.json'), { force: true });
    const got = await lab.startAgents(['n1', 'n2']);
    t.not(got[0].subnet, got[1].subnet, `round ${round}: ${got[0].subnet} ${got[1].subnet}`);
    await lab.stopAgent('n1');
    await lab.stopAgent('n2');
  }
});
