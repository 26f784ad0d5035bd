import t from 'tap';
import { Lab } from '../../lib/lab/lab';
import { checkLabName, nodeIp, nodeNs, onSecondSubnet, podNs, worldNs } from '../../lib/lab/names';
import { agentArgs } from '../../lib/lab/agent';
import type { LabState } from '../../lib/lab/state';
import { berth } from '../helpers/run';

t.test('bad lab options are refused before anything is created, naming the option', async (t) => {
  await t.rejects(Lab.up({ name: 'Bad_Name', nodes: 2 }), { message: /^--name: invalid lab name "Bad_Name"/ });
  await t.rejects(Lab.up({ name: 'ok', nodes: 0 }), { message: /^--nodes: want 1 to 200 nodes, got 0/ });
  await t.rejects(Lab.up({ name: 'ok', nodes: 1.5 }), { message: /^--nodes:/ });
  await t.rejects(Lab.up({ name: 'ok', nodes: 2, network: 'ipip' as 'vxlan' }), { message: /^--network: unknown network "ipip"/ });
  await t.rejects(Lab.up({ name: 'ok', nodes: 2, network: 'ospf' as never }), { message: /^--network: unknown network "ospf"/ });
  await t.rejects(Lab.up({ name: 'ok', nodes: 2, store: 'consul' as 'etcd' }), { message: /^--store: unknown store "consul"/ });
  await t.rejects(Lab.up({ name: 'ok', nodes: 3, subnets: 3 }), { message: /^--subnets: want 1 or 2 underlay subnets, got 3/ });
  await t.rejects(Lab.up({ name: 'ok', nodes: 1, subnets: 2 }), { message: /^--subnets: two underlay subnets need at least 2 nodes/ });
  t.throws(() => Lab.load('nosuchlab', '/nonexistent'), { message: /^--name: lab "nosuchlab" is not up/ });
});

t.test('names and addresses are derived from the lab name', async (t) => {
  t.equal(checkLabName('demo1'), 'demo1');
  t.throws(() => checkLabName('waytoolongname'));
  t.equal(worldNs('demo'), 'bl-demo-world');
  t.equal(nodeNs('demo', 'n2'), 'bl-demo-n2');
  t.equal(podNs('demo', 'n2', 'web'), 'bl-demo-n2-web');
  t.equal(nodeIp(3), '10.250.0.3');
  t.equal(nodeIp(3, true), '10.251.0.3', 'the second underlay subnet');
  t.same([1, 2, 3].map((i) => onSecondSubnet(i, 3, 2)), [false, false, true], '3 nodes on 2 subnets: n1 n2 | n3');
  t.same([1, 2, 3, 4].map((i) => onSecondSubnet(i, 4, 2)), [false, false, true, true]);
  t.same([1, 2].map((i) => onSecondSubnet(i, 2, 1)), [false, false], 'one subnet: all on the first');
});

t.test('agents get the lab\'s store: a shared directory, or etcd on the world address', async (t) => {
  const base: LabState = {
    name: 'x', dir: '/run/berth/lab/x', network: 'vxlan', store: 'embedded', cidr: '10.244.0.0/16', subnetLen: 24, ttlS: 10, intervalS: 1,
    underlayMtu: 1500, vni: 1, port: 4789, world: 'bl-x-world', nodes: [], storeDir: '/run/berth/lab/x/store', createdAt: '',
  };
  const node = { name: 'n1', ns: 'bl-x-n1', ip: '10.250.0.1', runDir: '/r', dataDir: '/d', conflist: '/c', agentLog: '/l' };
  const a = agentArgs(base, node).join(' ');
  t.match(a, /^agent run --node n1 --iface eth0 --network 10\.244\.0\.0\/16 /);
  t.match(a, /--store embedded --store-dir \/run\/berth\/lab\/x\/store/);
  t.match(a, /--data-dir \/d --run-dir \/r --log \/l/);
  t.match(agentArgs({ ...base, store: 'etcd' }, node).join(' '), /--store etcd --etcd-endpoints http:\/\/10\.250\.0\.254:2379 --etcd-prefix \/berth\/x/);
  t.match(agentArgs({ ...base, agentArgs: ['--bgp-vxlan', 'cross-subnet'] }, node).join(' '), / --bgp-vxlan cross-subnet$/, 'the lab\'s agent flags come last');
});

t.test('the CLI explains bad lab and agent commands in one line', async (t) => {
  const cases: [string[], RegExp][] = [
    [['lab', 'up'], /^berth: --nodes: required\n$/],
    [['lab', 'up', '--nodes', 'x'], /^berth: invalid value "x" for flag --nodes\n$/],
    [['lab', 'frobnicate'], /^berth: berth lab: unknown lab command "frobnicate"/],
    [['lab', 'exec', '--name', 'nosuch', 'n1'], /^berth: berth lab exec: want NODE -- CMD/],
    [['agent', 'frob'], /^berth: berth agent: unknown agent command "frob"/],
    [['agent', 'run', '--store', 'zk'], /^berth: --store: unknown store "zk"/],
    [['agent', 'run', '--network', '10.1.0.0/99'], /^berth: --network: invalid IPv4 CIDR "10.1.0.0\/99"/],
    [['agent', 'status', '--run-dir', '/nonexistent/x'], /^berth: --run-dir: no agent status at \/nonexistent\/x\/status.json: ENOENT/],
  ];
  for (const [args, re] of cases) {
    const r = await berth(args);
    t.equal(r.code, 1, args.join(' '));
    t.match(r.stderr, re, args.join(' '));
  }
});
