// Issue 7's "/32 (and /128)": a BGP network with an IPv6 range besides the IPv4 one, in a 2-node lab whose
// underlay also has IPv6 addresses (added here, inside the lab's node namespaces). Each agent announces
// its IPv6 block by MP_REACH over the IPv4 iBGP session, with its IPv6 underlay address as next hop; the
// other installs it with protocol 186; a blackhole covers the local block. berth-bgp gives each container
// a /128 and a default route via fe80::ecee:eeff:feee:eeee (Calico's model), and containers on the two
// nodes reach each other over IPv6.
import t from 'tap';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import type { Lab } from '../../lib/lab/lab';
import type { Pod } from '../../lib/lab/pods';
import { runIn } from '../../lib/lab/sh';
import { testLab, within } from '../helpers/lab';

const NET6 = 'fd00:244::/56';
const LEN6 = 120;
const underlay6 = (i: number): string => `fd00:b0::${i}`;

let lab: Lab;
const pods: Record<string, Pod> = {};

t.before(async () => {
  lab = await testLab(t, { nodes: 2, network: 'bgp', ttlS: 30, intervalS: 0.5, agents: false, tag: 'b6' });
  for (const [i, n] of ['n1', 'n2'].entries()) {
    const r = lab.exec(n, 'ip', ['-6', 'addr', 'add', `${underlay6(i + 1)}/64`, 'dev', 'eth0', 'nodad']);
    if (r.status !== 0) throw new Error(`ip -6 addr add on ${n}: ${r.stderr}`);
  }
  await lab.startAgents(['n1', 'n2'], ['--network6', NET6, '--subnet-len6', String(LEN6)]);
  pods.a = lab.addPod('n1', 'a');
  pods.b = lab.addPod('n2', 'b');
});

const block6 = (node: string): string => lab.settings(node).subnet6 ?? '';
const addr6 = (pod: Pod): string => /inet6 (\S+)\/128/.exec(runIn(pod.ns, 'ip', ['-6', '-o', 'addr', 'show', 'dev', 'eth0', 'scope', 'global']).stdout)?.[1] ?? '';
const routes6 = (node: string): string => lab.exec(node, 'ip', ['-6', 'route', 'show', 'proto', '186']).stdout;
const esc = (s: string): string => s.replace(/[.:/]/g, (c) => `\\${c}`);

t.test('each node has an IPv6 block paired with its IPv4 one, announced by BGP and installed by the other', async (t) => {
  t.equal(block6('n1').endsWith(`/${LEN6}`) && block6('n1').startsWith('fd00:244:'), true, `n1's block ${block6('n1')} from ${NET6}`);
  t.not(block6('n1'), block6('n2'), 'blocks differ');
  t.ok(await within(10_000, () => routes6('n1').includes(block6('n2')) && routes6('n2').includes(block6('n1'))) >= 0, 'both learnt');
  t.match(routes6('n1'), new RegExp(`^${esc(block6('n2'))} via ${esc(underlay6(2))} dev eth0`, 'm'), `n1: ${block6('n2')} via n2's IPv6 address, proto 186`);
  t.match(routes6('n2'), new RegExp(`^${esc(block6('n1'))} via ${esc(underlay6(1))} dev eth0`, 'm'), `n2: ${block6('n1')} via n1`);
  t.match(routes6('n1'), new RegExp(`^blackhole ${esc(block6('n1'))}`, 'm'), 'n1: blackhole for its own IPv6 block');
  t.match(lab.exec('n1', 'ip', ['-4', 'route', 'show', 'proto', '186']).stdout, new RegExp(`^${esc(lab.settings('n2').subnet)} via`, 'm'), 'IPv4 block still exchanged');
});

t.test('containers get a /128 from the block, a default route via fe80::ecee:eeff:feee:eeee; the node a /128 route', async (t) => {
  const a6 = addr6(pods.a);
  const [base, len] = block6('n1').split('/');
  const inBlock = new net.BlockList();
  inBlock.addSubnet(base, Number(len), 'ipv6');
  t.ok(inBlock.check(a6, 'ipv6'), `a's ${a6} is in ${block6('n1')}`);
  t.match(runIn(pods.a.ns, 'ip', ['-6', 'route', 'show', 'default']).stdout, /^default via fe80::ecee:eeff:feee:eeee dev eth0/m);
  t.match(runIn(pods.a.ns, 'ip', ['-4', 'route']).stdout, /^default via 169\.254\.1\.1 dev eth0/m, 'IPv4 default route as before');
  const host = lab.exec('n1', 'ip', ['-6', 'route', 'show', `${a6}/128`]).stdout;
  t.match(host, /dev (\S+)/, `n1 routes ${a6}/128 to the host veth: ${host.trim()}`);
  const dev = /dev (\S+)/.exec(host)?.[1] ?? '';
  t.match(lab.exec('n1', 'ip', ['-o', 'link', 'show', 'dev', dev]).stdout, /link\/ether ee:ee:ee:ee:ee:ee/, 'host end has Calico\'s MAC');
  t.match(lab.exec('n1', 'ip', ['-6', '-o', 'addr', 'show', 'dev', dev]).stdout, /inet6 fe80::ecee:eeff:feee:eeee\/64/, 'and so the gateway link-local address');
});

t.test('containers on the two nodes reach each other over IPv6, no tunnel', async (t) => {
  const a6 = addr6(pods.a);
  const b6 = addr6(pods.b);
  t.equal(runIn(pods.a.ns, 'ping', ['-6', '-c', '2', '-W', '2', b6]).status, 0, `a ${a6} -> b ${b6}`);
  t.equal(runIn(pods.b.ns, 'ping', ['-6', '-c', '2', '-W', '2', a6]).status, 0, `b -> a`);
  t.equal(runIn(pods.a.ns, 'ping', ['-c', '1', '-W', '2', pods.b.ip]).status, 0, 'IPv4 too');
  for (const n of ['n1', 'n2']) t.notMatch(lab.exec(n, 'ip', ['-d', '-o', 'link']).stdout, /\b(vxlan|ipip|ip6tnl|sit|gre)\b/, `${n}: no tunnel device`);
  // an unassigned address of n1's block hits the blackhole there (the kernel refuses a lookup into one with
  // EINVAL), while an assigned one is routed to its veth
  const unassigned = `${block6('n1').split('/')[0].slice(0, -2)}fe`; // the /120's last-but-one address
  const get = lab.exec('n1', 'ip', ['-6', 'route', 'get', unassigned]);
  t.ok(get.status !== 0 && /Invalid argument/.test(get.stderr), `${unassigned} is blackholed on n1: ${get.stderr.trim()}`);
  t.match(lab.exec('n1', 'ip', ['-6', 'route', 'get', a6]).stdout, /dev veth/, `${a6} goes to its veth`);
});

t.test('removing a pod removes its /128 host route and frees the address', async (t) => {
  const c = lab.addPod('n1', 'c');
  const c6 = addr6(c);
  const lease = path.join(lab.settings('n1').ipamDataDir, 'berth', c6);
  t.match(lab.exec('n1', 'ip', ['-6', 'route', 'show', `${c6}/128`]).stdout, /dev /);
  t.ok(fs.existsSync(lease), `${c6} reserved in berth-ipam`);
  lab.removePod(c);
  t.equal(lab.exec('n1', 'ip', ['-6', 'route', 'show', `${c6}/128`]).stdout.trim(), '', 'host route gone');
  t.notOk(fs.existsSync(lease), 'address released');
});
