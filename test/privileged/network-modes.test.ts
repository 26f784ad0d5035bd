// Docker's four network modes on `berth run` and `berth pod create`. berth runs inside a node namespace
// the test creates (nsenter --net): bridge mode makes berth0 in the caller's namespace, so the root
// namespace never sees it. An "outside" namespace, linked to the node, is where published ports are asked.
import t from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { BERTH, bundle, command } from '../helpers/run';
import { eventually, nodeOutsideLab, tcpAsk, type TestNetns } from '../helpers/netns';
import { uniqueId } from '../helpers/bundle';
import { expectOneLineErrors } from '../helpers/one-line-errors';
import { stateEntries } from '../helpers/frontend';

const berthIn = (ns: TestNetns, args: string[]) => command('nsenter', [`--net=${ns.path}`, BERTH, ...args]);
const NODE_IP = '192.168.200.1';
const SERVE = ['/bin/sh', '-c', 'while true; do echo hello-from-$(hostname) | nc -l -p 80; done'];

t.test('bridge, host, none and container:ID', async (t) => {
  const { node, outside } = nodeOutsideLab(t);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'pods-plugins-modes-'));
  const root = path.join(work, 'state');
  const g = ['--root', root];
  const ids: string[] = [];
  const pod = `pm${process.pid}`;
  t.teardown(async () => {
    await berthIn(node, [...g, 'pod', 'rm', pod]);
    for (const id of ids.reverse()) await berthIn(node, [...g, 'delete', '--force', id]);
    fs.rmSync(work, { recursive: true, force: true });
  });
  const server = bundle(SERVE);
  const sleeper = bundle(['/bin/sleep', '1000']);
  t.teardown(() => { server.cleanup(); sleeper.cleanup(); });
  const id = (p: string) => { const x = uniqueId(p); ids.push(x); return x; };
  const exec = (c: string, ...args: string[]) => berthIn(node, [...g, 'exec', c, ...args]);
  const ask = (c: string, host: string, port: number) => () =>
    execFileSync('nsenter', [`--net=${node.path}`, BERTH, ...g, 'exec', c, '/bin/sh', '-c', `nc -w 2 ${host} ${port} </dev/null || true`], { encoding: 'utf8' }).includes('hello-from-');

  // bridge: berth0 made in the node namespace (not the root one), -p reachable from outside, hairpin
  t.equal(fs.existsSync('/sys/class/net/berth0'), false, 'no berth0 in the root namespace before');
  const web = id('web');
  let r = await berthIn(node, [...g, 'run', '-d', '--network', 'bridge', '-p', '8080:80', '--bundle', server.dir, web]);
  t.equal(r.code, 0, r.stderr);
  t.match(node.exec('ip', ['-o', 'link', 'show', 'berth0']), /berth0/, 'berth0 in the caller\'s namespace');
  t.equal(fs.existsSync('/sys/class/net/berth0'), false, 'still no berth0 in the root namespace');
  const webIp = (await exec(web, '/bin/sh', '-c', "ip -4 -o addr show eth0 | awk '{print $4}'")).stdout.trim();
  t.match(webIp, /^10\.222\.\d+\.\d+\/16$/);
  t.match((await exec(web, '/bin/sh', '-c', 'ip -o link show lo')).stdout, /UP|LOOPBACK,UP/, 'lo is up');
  let said = '';
  t.ok(await eventually(() => (said = tcpAsk(outside, NODE_IP, 8080)).includes('hello-from-'), 5000), `outside reaches -p 8080: ${said}`);
  const client = id('cli');
  r = await berthIn(node, [...g, 'run', '-d', '--network', 'bridge', '--bundle', sleeper.dir, client]);
  t.equal(r.code, 0, r.stderr);
  t.ok(await eventually(ask(client, NODE_IP, 8080), 5000), 'another bridge container reaches the published port (hairpin through the node address)');
  t.ok(await eventually(ask(web, NODE_IP, 8080), 5000), 'the container reaches its own published port (hairpin)');

  // container:ID: the owner's namespace; deleting the joiner leaves the owner's network alone
  const joiner = id('join');
  r = await berthIn(node, [...g, 'run', '-d', '--network', `container:${web}`, '--bundle', sleeper.dir, joiner]);
  t.equal(r.code, 0, r.stderr);
  t.equal((await exec(joiner, '/bin/readlink', '/proc/self/ns/net')).stdout, (await exec(web, '/bin/readlink', '/proc/self/ns/net')).stdout, 'one network namespace');
  t.ok(await eventually(ask(joiner, '127.0.0.1', 80), 5000), 'the joiner reaches the owner on localhost');
  r = await berthIn(node, [...g, 'delete', '--force', joiner]);
  t.equal(r.code, 0, r.stderr);
  t.equal((await exec(web, '/bin/sh', '-c', "ip -4 -o addr show eth0 | awk '{print $4}'")).stdout.trim(), webIp, 'the owner keeps its address');
  t.ok(await eventually(() => tcpAsk(outside, NODE_IP, 8080).includes('hello-from-'), 5000), 'and its published port');

  // a pod joining a container's network (pod create --network container:ID): the pod's members are in the
  // owner's namespace; removing the pod leaves the owner's network alone
  const joinPod = `pc${process.pid}`;
  t.teardown(() => berthIn(node, [...g, 'pod', 'rm', joinPod]));
  r = await berthIn(node, [...g, 'pod', 'create', '--network', `container:${web}`, joinPod]);
  t.equal(r.code, 0, r.stderr);
  const podMember = id('pmem');
  r = await berthIn(node, [...g, 'run', '-d', '--pod', joinPod, '--bundle', sleeper.dir, podMember]);
  t.equal(r.code, 0, r.stderr);
  t.equal((await exec(podMember, '/bin/readlink', '/proc/self/ns/net')).stdout, (await exec(web, '/bin/readlink', '/proc/self/ns/net')).stdout, 'the pod member is in the owner\'s network namespace');
  t.ok(await eventually(ask(podMember, '127.0.0.1', 80), 5000), 'the pod member reaches the owner on localhost');
  t.equal((await berthIn(node, [...g, 'delete', '--force', podMember])).code, 0);
  r = await berthIn(node, [...g, 'pod', 'rm', joinPod]);
  t.equal(r.code, 0, r.stderr);
  t.equal((await exec(web, '/bin/sh', '-c', "ip -4 -o addr show eth0 | awk '{print $4}'")).stdout.trim(), webIp, 'the owner keeps its address after the pod went');
  t.ok(await eventually(() => tcpAsk(outside, NODE_IP, 8080).includes('hello-from-'), 5000), 'and its published port');

  // host: the caller's namespace
  const nodeNs = `net:[${fs.statSync(node.path).ino}]`;
  const host = bundle(['/bin/readlink', '/proc/self/ns/net']);
  t.teardown(() => host.cleanup());
  r = await berthIn(node, [...g, 'run', '--network', 'host', '--bundle', host.dir, id('host')]);
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stdout.trim(), nodeNs, 'host mode: the caller\'s network namespace');

  // none: a namespace of its own with loopback only, up
  const none = bundle(['/bin/sh', '-c', 'readlink /proc/self/ns/net; ip -o link show | wc -l; ip -o link show lo; ping -c 1 -W 1 127.0.0.1 >/dev/null && echo lo-works']);
  t.teardown(() => none.cleanup());
  none.spec.process!.capabilities!.effective!.push('CAP_NET_RAW');
  none.spec.process!.capabilities!.bounding!.push('CAP_NET_RAW');
  none.spec.process!.capabilities!.permitted!.push('CAP_NET_RAW');
  none.write();
  r = await berthIn(node, [...g, 'run', '--network', 'none', '--bundle', none.dir, id('none')]);
  t.equal(r.code, 0, r.stderr);
  const [nsLine, count, lo, works] = r.stdout.trim().split('\n');
  t.not(nsLine, nodeNs, 'none: not the caller\'s namespace');
  t.equal(count.trim(), '1', 'one link: lo');
  t.match(lo, /<LOOPBACK,UP/, 'lo up');
  t.equal(works, 'lo-works');

  // a pod on the default bridge with a published port
  r = await berthIn(node, [...g, 'pod', 'create', '--network', 'bridge', '-p', '8081:80', pod]);
  t.equal(r.code, 0, r.stderr);
  const member = id('member');
  r = await berthIn(node, [...g, 'run', '-d', '--pod', pod, '--bundle', server.dir, member]);
  t.equal(r.code, 0, r.stderr);
  t.ok(await eventually(() => tcpAsk(outside, NODE_IP, 8081).includes(`hello-from-${pod}`), 5000), 'outside reaches the pod\'s -p 8081');
  r = await berthIn(node, [...g, 'pod', 'rm', pod]);
  t.equal(r.code, 0, r.stderr);
  t.equal(tcpAsk(outside, NODE_IP, 8081, 1000), '', 'the pod\'s port mapping went with it');

  // every container removed: the default network's addresses all released
  for (const c of [web, client]) t.equal((await berthIn(node, [...g, 'delete', '--force', c])).code, 0);
  const ipam = path.join(root, '.networks', 'ipam', 'bridge');
  t.same(fs.readdirSync(ipam).filter((f) => /^\d+\.\d+\.\d+\.\d+$/.test(f)), [], 'no address left allocated');
  t.notMatch(node.run('nft', ['list', 'ruleset']).stdout, /dport 808[01]/, 'no port mapping rule left');
});

t.test('bad --network and -p: one line naming the field, nothing made', async (t) => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'pods-plugins-modes-bad-'));
  const root = path.join(work, 'state');
  const b = bundle(['/bin/true']);
  t.teardown(() => { b.cleanup(); fs.rmSync(work, { recursive: true, force: true }); });
  const cases: [string[], RegExp][] = [
    [['run', '--network', 'bogus', '--bundle', b.dir, 'x1'], /^berth: --network: unknown mode "bogus"/],
    [['run', '--network', 'container:nosuch', '--bundle', b.dir, 'x1'], /^berth: --network: container "nosuch" is not running/],
    [['run', '--network', 'bridge', '-p', '70000:80', '--bundle', b.dir, 'x1'], /^berth: --publish: invalid "70000:80"/],
    [['run', '--network', 'none', '-p', '80:80', '--bundle', b.dir, 'x1'], /^berth: --publish: port mapping needs --network bridge/],
    [['run', '--network', 'none', '--net', 'x', '--bundle', b.dir, 'x1'], /^berth: --network: give one of/],
    [['pod', 'create', '--network', 'bogus', 'p1'], /^berth: --network: unknown mode "bogus"/],
    [['pod', 'create', '--network', 'container:nosuch', 'p1'], /^berth: --network: container "nosuch" is not running/],
  ];
  await expectOneLineErrors(t, root, cases);
  t.same(fs.existsSync(root) ? stateEntries(root) : [], [], 'nothing under the root');
});
