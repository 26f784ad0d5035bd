// `berth lab join` and `berth lab router` without a lab: bad arguments are one line naming the flag, every
// lab sub-command answers --help and -h, and the router configs and agent flags follow the lab's state.
import t from 'tap';
import { birdConf, frrConf, nodesAsn, routerAgentArgs } from '../../lib/lab/router-conf';
import type { LabRouterState, LabState } from '../../lib/lab/state';
import { berth } from '../helpers/run';

t.test('bad join and router arguments: one line naming the flag, before any lab is looked up', async (t) => {
  const cases: [string[], RegExp][] = [
    [['lab', 'join', '--subnet', '3'], /^berth: --subnet: want underlay subnet 1 or 2, got 3\n$/],
    [['lab', 'join', '--subnet', 'two'], /^berth: invalid value "two" for flag --subnet\n$/],
    [['lab', 'join', 'n9'], /^berth: berth lab join: unexpected argument "n9"\n$/],
    [['lab', 'join', '--name', 'nosuch'], /^berth: --name: lab "nosuch" is not up\n$/],
    [['lab', 'router'], /^berth: berth lab router: missing router command \(want add, ls, rm; --help for usage\)\n$/],
    [['lab', 'router', 'frob'], /^berth: berth lab router: unknown router command "frob" \(want add, ls, rm\)\n$/],
    [['lab', 'router', 'add', '--role', 'rr'], /^berth: --kind: required\n$/],
    [['lab', 'router', 'add', '--kind', 'bird'], /^berth: --role: required\n$/],
    [['lab', 'router', 'add', '--kind', 'quagga', '--role', 'rr'], /^berth: --kind: unknown router kind "quagga" \(want bird or frr\)\n$/],
    [['lab', 'router', 'add', '--kind', 'frr', '--role', 'spine'], /^berth: --role: unknown router role "spine" \(want rr or tor\)\n$/],
    [['lab', 'router', 'add', '--kind', 'bird', '--role', 'rr', '--router-name', 'n4'], /^berth: --router-name: invalid router name "n4" /],
    [['lab', 'router', 'add', '--kind', 'bird', '--role', 'rr', '--router-name', 'Big_One'], /^berth: --router-name: invalid router name "Big_One" /],
    [['lab', 'router', 'add', '--kind', 'bird', '--role', 'rr', '--asn', '65001'], /^berth: --asn: a route reflector is in the nodes' AS: only a tor takes --asn\n$/],
    [['lab', 'router', 'add', '--kind', 'bird', '--role', 'tor', '--asn', 'x1'], /^berth: --asn: invalid AS number "x1" \(want 1 to 4294967295\)\n$/],
    [['lab', 'router', 'add', '--kind', 'bird', '--role', 'tor', '--asn', '0'], /^berth: --asn: invalid AS number "0" /],
    [['lab', 'router', 'add', '--kind', 'bird', '--role', 'tor', '--announce', '10.1.0.0/33'], /^berth: --announce: invalid IPv4 prefix "10.1.0.0\/33"\n$/],
    [['lab', 'router', 'add', '--kind', 'bird', '--role', 'tor', 'extra'], /^berth: berth lab router add: unexpected argument "extra"\n$/],
    [['lab', 'router', 'add', '--kind', 'bird', '--role', 'rr', '--name', 'nosuch'], /^berth: --name: lab "nosuch" is not up\n$/],
    [['lab', 'router', 'rm'], /^berth: berth lab router rm: want ROUTER\n$/],
    [['lab', 'router', 'ls', '--name', 'nosuch'], /^berth: --name: lab "nosuch" is not up\n$/],
    [['lab', 'status', 'n1'], /^berth: berth lab status: unexpected argument "n1"\n$/],
  ];
  for (const [args, re] of cases) {
    const r = await berth(args);
    t.equal(r.code, 1, args.join(' '));
    t.match(r.stderr, re, args.join(' '));
  }
});

t.test('every lab sub-command answers --help and -h with its usage, exit 0', async (t) => {
  const subs = [[], ['up'], ['join'], ['status'], ['exec'], ['run'], ['down'], ['demo'], ['router'], ['router', 'add'], ['router', 'ls'], ['router', 'rm']];
  for (const sub of subs) {
    for (const flag of ['--help', '-h']) {
      const r = await berth(['lab', ...sub, flag]);
      const name = ['berth', 'lab', ...sub].join(' ');
      t.equal(r.code, 0, `${name} ${flag}`);
      t.match(r.stdout, new RegExp(`^NAME:\\n   ${name} - `), `${name} ${flag}: its name`);
      t.match(r.stdout, /\nOPTIONS:\n/, `${name} ${flag}: its options`);
      t.equal(r.stderr, '');
    }
  }
  const add = await berth(['lab', 'router', 'add', '--help']);
  for (const f of ['--kind bird|frr', '--role rr|tor', '--router-name R', '--asn N', '--announce PREFIX']) t.match(add.stdout, f, `router add lists ${f}`);
  t.match((await berth(['lab', 'join', '-h'])).stdout, /--subnet 1\|2/);
  t.match((await berth(['lab', '--help'])).stdout, /\n {3}join {4}add a node.*\n {3}router {2}BGP routers/s, 'berth lab lists join and router');
});

const lab: LabState = {
  name: 'x', dir: '/run/berth/lab/x', network: 'bgp', store: 'embedded', cidr: '10.244.0.0/16', subnetLen: 24, ttlS: 10, intervalS: 1,
  underlayMtu: 1500, vni: 1, port: 4789, world: 'bl-x-world', nodes: [], storeDir: '/run/berth/lab/x/store', createdAt: '',
};
const router = (o: Partial<LabRouterState>): LabRouterState => ({ name: 'rr1', kind: 'bird', role: 'rr', ns: 'bl-x-rr1', ip: '10.250.0.249', asn: 64512, announce: [], dir: '/d', ...o });

t.test('agent flags for the lab\'s routers: a peer each, no mesh under a reflector, a ToR\'s prefixes imported', async (t) => {
  t.same(routerAgentArgs(lab), [], 'no routers: no flags');
  const tor = router({ name: 'tor1', role: 'tor', ip: '10.250.0.248', asn: 65000, announce: ['10.99.0.0/24'] });
  t.same(routerAgentArgs({ ...lab, routers: [tor] }), ['--bgp-peer', '10.250.0.248@65000', '--bgp-import', '10.99.0.0/24'], 'a ToR keeps the mesh');
  t.same(routerAgentArgs({ ...lab, routers: [router({ announce: ['10.97.0.0/24'] }), tor] }),
    ['--bgp-no-mesh', '--bgp-peer', '10.250.0.249@64512', '--bgp-peer', '10.250.0.248@65000', '--bgp-import', '10.99.0.0/24'], 'a reflector ends the mesh; its iBGP routes need no import policy');
  t.equal(nodesAsn(lab), 64512, 'the agent\'s default AS');
  t.equal(nodesAsn({ ...lab, agentArgs: ['--bgp-asn', '65123'] }), 65123);
  t.equal(nodesAsn({ ...lab, agentArgs: ['--bgp-asn=65124'] }), 65124);
});

t.test('router configs: dynamic neighbours on the underlay in the nodes\' AS, reflector or ToR', async (t) => {
  const asn = { ...lab, agentArgs: ['--bgp-asn', '65123'] };
  const rr = birdConf(asn, router({ asn: 65123, announce: ['10.97.0.0/24'] }));
  t.match(rr, /neighbor range 10\.250\.0\.0\/24 as 65123;/);
  t.match(rr, /local 10\.250\.0\.249 as 65123;/);
  t.match(rr, /rr client;/);
  t.match(rr, /route 10\.97\.0\.0\/24 blackhole;/);
  const tor = birdConf(asn, router({ role: 'tor', asn: 65000 }));
  t.notMatch(tor, /rr client|protocol static/);
  t.match(tor, /export where source = RTS_STATIC;/, 'a ToR sends only its own prefixes');
  const frr = frrConf(asn, router({ kind: 'frr', asn: 65123, announce: ['10.97.0.0/24'] }));
  t.match(frr, /^router bgp 65123$/m);
  t.match(frr, /^ neighbor nodes remote-as 65123$/m);
  t.match(frr, /^ bgp listen range 10\.250\.0\.0\/24 peer-group nodes$/m);
  t.match(frr, /^ {2}neighbor nodes route-reflector-client$/m);
  t.match(frr, /^ {2}network 10\.97\.0\.0\/24$/m);
  t.notMatch(frrConf(asn, router({ kind: 'frr', role: 'tor', asn: 65000 })), /route-reflector-client|cluster-id/);
});
