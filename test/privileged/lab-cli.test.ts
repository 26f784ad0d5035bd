// The lab CLI as a user drives it (bin/berth lab ...): nodes joined to a running lab (two at once) converge
// with the others (a container on it reaches a pod on n1); BIRD as a route reflector and FRR as a top-of-rack
// router added to a running BGP lab, the agents Established with them and routes flowing through them,
// a node joined afterwards peering with them too; `down` leaves no namespace, process or state.
import t, { Test } from 'tap';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { Lab } from '../../lib/lab/lab';
import { alive } from '../../lib/lab/procs';
import { runIn } from '../../lib/lab/sh';
import { berth } from '../helpers/run';
import { pingBundle, within } from '../helpers/lab';

const namespaces = (lab: string): string[] => (fs.existsSync('/run/netns') ? fs.readdirSync('/run/netns').filter((n) => n.startsWith(`bl-${lab}-`)) : []);
const esc = (s: string): string => s.replace(/\./g, '\\.');

for (const tool of ['/usr/sbin/bird', '/usr/sbin/birdc', '/usr/lib/frr/bgpd', '/usr/bin/vtysh']) {
  if (!fs.existsSync(tool)) throw new Error(`${tool} is missing: run scripts/setup.sh (bird2, frr)`);
}

async function ok(t: Test, args: string[]): Promise<string> {
  const r = await berth(args);
  t.equal(r.code, 0, `berth ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** After `berth lab down`: nothing of the lab is left. */
function gone(t: Test, name: string, pids: number[], dir: string): void {
  t.same(namespaces(name), [], 'no namespace left');
  t.same(pids.filter(alive), [], 'no process left');
  t.notOk(fs.existsSync(dir), 'no lab state left');
}

t.test('berth lab join: two at once get n3 and n4 and converge; a container on n3 pings a pod on n1', async (t) => {
  const name = `lj${process.pid % 100000}`;
  t.teardown(() => Lab.down(name));
  await ok(t, ['lab', 'up', '--name', name, '--nodes', '2']);
  // concurrent joins: each picks the next free node number under the labs' lock, so both land
  const joined = (await Promise.all([ok(t, ['lab', 'join', '--name', name]), ok(t, ['lab', 'join', '--name', name])])).join('');
  t.same([...joined.matchAll(/^(n\d) joined lab /gm)].map((m) => m[1]).sort(), ['n3', 'n4'], 'one join got n3, the other n4');
  t.match(joined, /n3 {2}underlay 10\.250\.0\.3 {2}subnet 10\.244\.\d+\.0\/24 mtu 1450/);
  t.match(joined, /n4 {2}underlay 10\.250\.0\.4 {2}subnet 10\.244\.\d+\.0\/24 mtu 1450/);
  const status = await ok(t, ['lab', 'status', '--name', name]);
  t.match(status, /4 node\(s\)/, 'status knows both joined nodes');
  const lab = Lab.load(name);
  t.same(namespaces(name).sort(), ['n1', 'n2', 'n3', 'n4', 'world'].map((n) => `bl-${name}-${n}`), 'n3 and n4 have their namespaces');
  t.not(lab.settings('n3').subnet, lab.settings('n4').subnet, 'with leases of their own');
  // the others program the new node: n1's VXLAN device has a route to n3's subnet
  const n3Subnet = lab.settings('n3').subnet;
  t.match(runIn(lab.node('n1').ns, 'ip', ['route', 'show', n3Subnet]).stdout, /dev berth\.1/, 'n1 routes n3\'s subnet over VXLAN');
  const ex = await berth(['lab', 'exec', '--name', name, 'n3', '--', 'ping', '-c', '1', '-W', '2', lab.node('n1').ip]);
  t.equal(ex.code, 0, 'n3 reaches n1 on the underlay');

  const pod = lab.addPod('n1', 'target');
  const bundle = await pingBundle(t, pod.ip);
  const run = await berth(['lab', 'run', '--name', name, 'n3', '--bundle', bundle, `labcli-${process.pid}`]);
  t.equal(run.code, 0, run.stderr + run.stdout);
  t.match(run.stdout, new RegExp(`inet ${esc(n3Subnet.split('.').slice(0, 3).join('.'))}\\.\\d+/24`), 'the container has an address of n3\'s lease');
  t.match(run.stdout, /2 packets transmitted, 2 packets received/, 'and reaches the pod on n1');

  const pids = Lab.load(name).state.nodes.map((n) => n.agentPid!);
  t.equal(pids.length, 4);
  const down = await ok(t, ['lab', 'down', '--name', name]);
  t.match(down, /removed 6 namespace\(s\), stopped 4 process\(es\)/, 'down removes the joined nodes with the rest');
  gone(t, name, pids, lab.state.dir);
});

t.test('berth lab router: BIRD reflects, FRR is a ToR, a node joined later peers with both; rm and down undo it', async (t) => {
  const name = `lr${process.pid % 100000}`;
  t.teardown(() => Lab.down(name));
  await ok(t, ['lab', 'up', '--name', name, '--nodes', '2', '--network', 'bgp']);
  const rrOut = await ok(t, ['lab', 'router', 'add', '--name', name, '--kind', 'bird', '--role', 'rr', '--announce', '10.97.1.0/24']);
  t.match(rrOut, /^router rr1: bird rr at 10\.250\.0\.249 AS 64512 \(pid \d+\), Established with 2 node\(s\)/);
  const torOut = await ok(t, ['lab', 'router', 'add', '--name', name, '--kind', 'frr', '--role', 'tor', '--asn', '65010', '--announce', '10.99.1.0/24', '--announce', '10.99.2.0/24']);
  t.match(torOut, /^router tor1: frr tor at 10\.250\.0\.248 AS 65010/);
  await ok(t, ['lab', 'join', '--name', name]);
  const ls = await ok(t, ['lab', 'router', 'ls', '--name', name]);
  t.match(ls, /^ {2}rr1 {2}bird rr {2}underlay 10\.250\.0\.249 {2}AS 64512 {2}pid \d+ {2}netns bl-\w+-rr1 {2}announces 10\.97\.1\.0\/24$/m);
  t.match(ls, /^ {2}tor1 {2}frr tor {2}underlay 10\.250\.0\.248 {2}AS 65010 /m);
  const lab = Lab.load(name);
  const nodes = ['n1', 'n2', 'n3'];
  const [rr, tor] = lab.state.routers!;

  // every agent, the joined one too, is Established with both routers and nobody else: no mesh under a reflector
  for (const n of nodes) {
    const peers = JSON.parse(await ok(t, ['bgp', 'peers', '--json', '--run-dir', lab.node(n).runDir])) as { address: string; state: string }[];
    t.same(peers.map((p) => `${p.address} ${p.state}`).sort(), [`${tor.ip} Established`, `${rr.ip} Established`].sort(), `${n}: the two routers only`);
  }
  const birdc = (cmd: string): string => execFileSync('birdc', ['-s', path.join(rr.dir, 'bird.ctl'), ...cmd.split(' ')], { encoding: 'utf8' });
  t.equal((birdc('show protocols').match(/^node\d+\s+BGP\s+---\s+up\s+\S+\s+Established/gm) ?? []).length, 3, 'BIRD has 3 Established clients');
  const table = birdc('show route');
  for (const n of nodes) t.match(table, new RegExp(`${esc(lab.settings(n).subnet)}\\s+unicast \\[node\\d [^\\]]*\\] \\* \\(100\\) \\[i\\]\\s+via ${esc(lab.node(n).ip)}`), `BIRD has ${n}'s block`);
  const frrTable = execFileSync('vtysh', ['--vty_socket', tor.dir, '-d', 'bgpd', '-c', 'show bgp ipv4 unicast json'], { encoding: 'utf8' });
  const frrRoutes = (JSON.parse(frrTable) as { routes: Record<string, unknown> }).routes;
  for (const n of nodes) t.ok(frrRoutes[lab.settings(n).subnet], `FRR has ${n}'s block`);

  // routes flow through the reflector (each block via its own node) and from the ToR (its prefixes, imported)
  for (const n of nodes) {
    let r = '';
    const want = [...nodes.filter((o) => o !== n).map((o) => lab.settings(o).subnet), '10.97.1.0/24', '10.99.1.0/24', '10.99.2.0/24'];
    t.ok(await within(15_000, () => { r = lab.exec(n, 'ip', ['-4', 'route', 'show', 'proto', 'bgp']).stdout; return want.every((p) => r.includes(p)); }) >= 0, `${n}: ${r}`);
    for (const o of nodes.filter((x) => x !== n)) t.match(r, new RegExp(`^${esc(lab.settings(o).subnet)} via ${esc(lab.node(o).ip)} dev eth0`, 'm'), `${n}: ${o}'s block via ${o}`);
    t.match(r, new RegExp(`^10\\.97\\.1\\.0/24 via ${esc(rr.ip)} `, 'm'), `${n}: BIRD's prefix via BIRD`);
    t.match(r, new RegExp(`^10\\.99\\.2\\.0/24 via ${esc(tor.ip)} `, 'm'), `${n}: FRR's prefix via FRR`);
  }
  const a = lab.addPod('n1', 'a');
  const c = lab.addPod('n3', 'c');
  t.equal(runIn(c.ns, 'ping', ['-c', '1', '-W', '2', a.ip]).status, 0, 'a pod on the joined node reaches a pod on n1 through reflected routes');

  // without the reflector the nodes mesh again and its prefix is gone
  t.match(await ok(t, ['lab', 'router', 'rm', '--name', name, 'rr1']), /^router rr1 removed/);
  t.notOk(alive(rr.pid!), 'BIRD stopped');
  t.notOk(namespaces(name).includes(rr.ns), 'its namespace removed');
  const after = Lab.load(name);
  t.same(after.state.routers!.map((r) => r.name), ['tor1'], 'the state keeps the ToR only');
  const meshed = [lab.node('n1').ip, lab.node('n2').ip, tor.ip].sort().join(' ');
  let up = '';
  t.ok(await within(15_000, async () => {
    const peers = JSON.parse(await ok(t, ['bgp', 'peers', '--json', '--run-dir', after.node('n3').runDir])) as { address: string; state: string }[];
    up = peers.filter((p) => p.state === 'Established').map((p) => p.address).sort().join(' ');
    return up === meshed;
  }) >= 0, `n3 meshes with n1, n2 and keeps the ToR: ${up}`);
  let r3 = '';
  t.ok(await within(15_000, () => { r3 = lab.exec('n3', 'ip', ['-4', 'route', 'show', 'proto', 'bgp']).stdout; return !r3.includes('10.97.1.0/24') && r3.includes(lab.settings('n1').subnet); }) >= 0, `n3 drops BIRD's prefix, keeps n1's block: ${r3}`);

  const pids = [...after.state.nodes.map((n) => n.agentPid!), tor.pid!];
  await ok(t, ['lab', 'down', '--name', name]);
  gone(t, name, pids, lab.state.dir);
});

t.test('berth lab join --subnet 2: the node sits behind the router namespace and reaches n1; a one-subnet lab refuses it', async (t) => {
  const name = `ls${process.pid % 100000}`;
  t.teardown(() => Lab.down(name));
  await ok(t, ['lab', 'up', '--name', name, '--nodes', '2', '--subnets', '2']);
  const joined = await ok(t, ['lab', 'join', '--name', name, '--subnet', '2']);
  t.match(joined, /n3 {2}underlay 10\.251\.0\.3 /, 'n3 on the second subnet');
  const lab = Lab.load(name);
  t.match(runIn(lab.node('n3').ns, 'ip', ['route', 'show', '10.250.0.0/24']).stdout, /via 10\.251\.0\.253/, 'n3 routes the first subnet through the router');
  t.equal((await berth(['lab', 'exec', '--name', name, 'n3', '--', 'ping', '-c', '1', '-W', '2', lab.node('n1').ip])).code, 0, 'n3 reaches n1 across the router');
  const one = `lo${process.pid % 100000}`;
  t.teardown(() => Lab.down(one));
  await ok(t, ['lab', 'up', '--name', one, '--nodes', '1']);
  const refused = await berth(['lab', 'join', '--name', one, '--subnet', '2']);
  t.equal(refused.code, 1);
  t.match(refused.stderr, /^berth: --subnet: lab lo\d+ has one underlay subnet \(berth lab up --subnets 2 makes two\)\n$/);
  t.same(namespaces(one).sort(), [`bl-${one}-n1`, `bl-${one}-world`], 'nothing added by the refused join');
  t.equal(Lab.load(one).state.nodes.length, 1, 'nor recorded');
});
