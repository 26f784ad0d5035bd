// `berth lab`: up, join, status, exec, run, router add|ls|rm, down, demo. The lab's modules load only for the sub-command used.
import { spawn } from 'node:child_process';
import { int, list, str, type Command, type Entry, type FlagSpec, type Group, type Parsed } from '../util/command-line';
import { BerthError } from '../util/errors';

const NAME: FlagSpec = { name: { value: true, arg: 'LAB', default: 'berth', help: 'the lab\'s name' } };

const UP_FLAGS: FlagSpec = {
  ...NAME,
  nodes: { value: true, arg: 'N', help: 'how many nodes (required)' },
  network: { value: true, arg: 'vxlan|bgp|host-gw', default: 'vxlan', help: 'how the nodes reach each other\'s subnets' },
  subnets: { value: true, arg: '1|2', default: '1', help: 'underlay subnets: 2 puts the last half of the nodes on 10.251.0.0/24, behind a router namespace' },
  'agent-arg': { value: true, repeat: true, arg: 'FLAG', help: 'a `berth agent run` flag for every agent, e.g. --agent-arg=--bgp-ipip=cross-subnet' },
  store: { value: true, arg: 'embedded|etcd', default: 'embedded', help: 'the agents\' store: a shared directory, or etcd in the world namespace' },
  mtu: { value: true, arg: 'N', default: '1500', help: 'the underlay MTU' },
  ttl: { value: true, arg: 'SECONDS', default: '10', help: 'the agents\' lease time to live' },
  interval: { value: true, arg: 'SECONDS', default: '1', help: 'the agents\' reconcile period' },
};

const JOIN_FLAGS: FlagSpec = {
  ...NAME,
  subnet: { value: true, arg: '1|2', default: '1', help: 'the underlay subnet of the new node (2: in a lab made with --subnets 2)' },
};

const ROUTER_ADD_FLAGS: FlagSpec = {
  ...NAME,
  kind: { value: true, arg: 'bird|frr', help: 'the daemon: BIRD 2 or FRR\'s bgpd (required)' },
  role: { value: true, arg: 'rr|tor', help: 'rr: iBGP route reflector of every node (the agents drop their mesh); tor: eBGP top-of-rack peer (required)' },
  'router-name': { value: true, arg: 'R', help: 'its name, and its namespace bl-LAB-R (default: the role and a number, rr1, tor1, ...)' },
  asn: { value: true, arg: 'N', help: 'a tor\'s AS number (default: 65000); a reflector is in the nodes\' AS' },
  announce: { value: true, repeat: true, arg: 'PREFIX', help: 'a prefix the router originates (the agents import a tor\'s)' },
};

const ROUTER_COMMANDS: Record<string, Command<unknown>> = {
  add: { summary: 'start a BIRD or FRR router on the underlay, peering with every node; restarts the agents (hitless) pointed at it', flags: ROUTER_ADD_FLAGS, interspersed: true, run: (p) => changesLabs(() => routerAdd(p)) },
  ls: { summary: 'the lab\'s routers: kind, role, address, AS, pid', flags: NAME, run: (p) => routerLs(p) },
  rm: { summary: 'stop a router and remove its namespace; restarts the agents without it', args: 'ROUTER', flags: NAME, interspersed: true, run: (p) => changesLabs(() => routerRm(p)) },
};

const COMMANDS: Record<string, Entry<unknown>> = {
  up: { summary: 'create a lab: a world namespace with an underlay bridge, N nodes, their agents', flags: UP_FLAGS, interspersed: true, run: (p) => changesLabs(() => up(p)) },
  join: { summary: 'add a node to a running lab: its namespace on the underlay and its agent, with the lab\'s flags', flags: JOIN_FLAGS, run: (p) => changesLabs(() => join(p)) },
  status: { summary: 'the lab\'s nodes: underlay address, subnet, agent', flags: NAME, run: (p) => status(p) },
  exec: { summary: 'run a command in a node\'s (or the world\'s) network namespace', args: 'NODE|world -- CMD [ARGS...]', flags: NAME, run: (p) => exec(p) },
  run: { summary: 'berth run inside NODE, with --net set to the node\'s network', args: 'NODE [berth run args]', flags: NAME, run: (p) => run(p) },
  router: {
    summary: 'BGP routers of a --network bgp lab (BIRD or FRR, route reflector or top-of-rack)',
    flags: {}, commands: () => ROUTER_COMMANDS, enter: (_p: Parsed, ctx: unknown) => ctx,
  },
  down: { summary: 'remove the lab: its namespaces, processes and routers', flags: NAME, run: (p) => changesLabs(() => down(p)) },
  demo: {
    summary: '2 nodes, a busybox container on each pinging the other, then down',
    flags: { name: { ...NAME.name, default: 'demo' } }, run: (p) => demo(p),
  },
};

/** `berth lab COMMAND`, as the berth command table runs it. */
export const labGroup: Group<unknown> = {
  summary: 'a multi-node network on this machine, entirely inside namespaces it creates',
  flags: {},
  commands: () => COMMANDS,
  enter: (_p, ctx) => ctx,
};

/** Commands that change a lab run one at a time (lab-lock.ts). */
async function changesLabs(command: () => Promise<number>): Promise<number> {
  const [{ withLabLock }, { LAB_ROOT }] = await Promise.all([import('./lab-lock'), import('./names')]);
  return withLabLock(LAB_ROOT, command);
}

async function up(p: Parsed): Promise<number> {
  if (p.positional.length) throw new BerthError(`unexpected argument "${p.positional[0]}"`, { field: 'berth lab up' });
  if (str(p, 'nodes') === undefined) throw new BerthError('required', { field: '--nodes' });
  const { Lab } = await import('./lab');
  const lab = await Lab.up({
    name: str(p, 'name')!, nodes: int(p, 'nodes'), network: str(p, 'network') as 'vxlan',
    store: str(p, 'store') as 'embedded', mtu: int(p, 'mtu'), ttlS: int(p, 'ttl'), intervalS: int(p, 'interval'),
    subnets: int(p, 'subnets'), agentArgs: agentArgs(p),
  });
  printStatus(lab);
  return 0;
}

async function join(p: Parsed): Promise<number> {
  noArguments(p, 'berth lab join');
  const { Lab, checkJoinSubnet } = await import('./lab');
  const subnet = checkJoinSubnet(int(p, 'subnet'));
  const lab = Lab.load(str(p, 'name')!);
  const node = await lab.join({ subnet });
  process.stdout.write(`${node.name} joined lab ${lab.state.name}\n`);
  printStatus(lab);
  return 0;
}

function noArguments(p: Parsed, where: string): void {
  if (p.positional.length) throw new BerthError(`unexpected argument "${p.positional[0]}"`, { field: where });
}

async function routerAdd(p: Parsed): Promise<number> {
  noArguments(p, 'berth lab router add');
  for (const f of ['kind', 'role']) if (str(p, f) === undefined) throw new BerthError('required', { field: `--${f}` });
  const { checkRouterOptions } = await import('./routers');
  const asn = str(p, 'asn');
  const o = {
    kind: str(p, 'kind') as 'bird', role: str(p, 'role') as 'rr', name: str(p, 'router-name'),
    asn: asn === undefined ? undefined : Number(asn), announce: list(p, 'announce'),
  };
  if (asn !== undefined && !/^\d+$/.test(asn)) throw new BerthError(`invalid AS number "${asn}" (want 1 to 4294967295)`, { field: '--asn' });
  checkRouterOptions(o); // before the lab is looked up: a typo is named as such
  const { Lab } = await import('./lab');
  const lab = Lab.load(str(p, 'name')!);
  const r = await lab.addRouter(o);
  process.stdout.write(`router ${r.name}: ${r.kind} ${r.role} at ${r.ip} AS ${r.asn} (pid ${r.pid}), Established with ${lab.state.nodes.filter((n) => n.agentPid !== undefined).length} node(s)\n`);
  return 0;
}

function routerLine(r: import('./state').LabRouterState): string {
  return `  ${r.name}  ${r.kind} ${r.role}  underlay ${r.ip}  AS ${r.asn}  pid ${r.pid ?? '-'}  netns ${r.ns}${r.announce.length ? `  announces ${r.announce.join(' ')}` : ''}`;
}

async function routerLs(p: Parsed): Promise<number> {
  noArguments(p, 'berth lab router ls');
  const { Lab } = await import('./lab');
  const routers = Lab.load(str(p, 'name')!).state.routers ?? [];
  if (routers.length) process.stdout.write(routers.map(routerLine).join('\n') + '\n');
  return 0;
}

async function routerRm(p: Parsed): Promise<number> {
  const [name, extra] = p.positional;
  if (!name) throw new BerthError('want ROUTER', { field: 'berth lab router rm' });
  if (extra !== undefined) throw new BerthError(`unexpected argument "${extra}"`, { field: 'berth lab router rm' });
  const { Lab } = await import('./lab');
  const r = await Lab.load(str(p, 'name')!).removeRouter(name);
  process.stdout.write(`router ${r.name} removed\n`);
  return 0;
}

/** --agent-arg values; "--flag=value" is split, as `berth agent run` takes flag and value apart */
function agentArgs(p: Parsed): string[] {
  const v = p.flags['agent-arg'];
  const all = Array.isArray(v) ? v : typeof v === 'string' ? [v] : [];
  return all.flatMap((a) => { const eq = a.indexOf('='); return a.startsWith('--') && eq > 0 ? [a.slice(0, eq), a.slice(eq + 1)] : [a]; });
}

function printStatus(lab: import('./lab').Lab): void {
  const s = lab.state;
  const lines = [`lab ${s.name}: ${s.nodes.length} node(s)${s.router ? ' on 2 underlay subnets' : ''}, ${s.network} over ${s.store} store, cluster ${s.cidr}${s.etcd ? `, etcd ${s.etcd.endpoint} (pid ${s.etcd.pid})` : ''}${s.agentArgs ? `, agents ${s.agentArgs.join(' ')}` : ''}`];
  for (const n of s.nodes) {
    let sub = '-';
    try { const x = lab.settings(n.name); sub = `${x.subnet} mtu ${x.mtu}`; } catch { /* agent not ready */ }
    lines.push(`  ${n.name}  underlay ${n.ip}  subnet ${sub}  agent ${n.agentPid ?? 'stopped'}  netns ${n.ns}`);
  }
  if (s.routers?.length) lines.push('routers:', ...s.routers.map(routerLine));
  process.stdout.write(lines.join('\n') + '\n');
}

async function status(p: Parsed): Promise<number> {
  noArguments(p, 'berth lab status');
  const { Lab } = await import('./lab');
  printStatus(Lab.load(str(p, 'name')!));
  return 0;
}

async function down(p: Parsed): Promise<number> {
  const { Lab } = await import('./lab');
  noArguments(p, 'berth lab down');
  const name = str(p, 'name')!;
  const r = await Lab.down(name);
  process.stdout.write(`lab ${name} down: removed ${r.namespaces.length} namespace(s), stopped ${r.pids.length} process(es)\n`);
  return 0;
}

function passthrough(ns: string, cmd: string, args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn('nsenter', [`--net=/run/netns/${ns}`, cmd, ...args], { stdio: 'inherit' });
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 + 9 : 1)));
  });
}

async function exec(p: Parsed): Promise<number> {
  const [target, ...rest] = p.positional;
  const cmd = rest[0] === '--' ? rest.slice(1) : rest;
  if (!target || cmd.length === 0) throw new BerthError('want NODE -- CMD [ARGS...]', { field: 'berth lab exec' });
  const { Lab } = await import('./lab');
  return passthrough(Lab.load(str(p, 'name')!).nsOf(target), cmd[0], cmd.slice(1));
}

async function run(p: Parsed): Promise<number> {
  const [target, ...rest] = p.positional;
  if (!target) throw new BerthError('want NODE [berth run args]', { field: 'berth lab run' });
  const { Lab } = await import('./lab');
  const { BERTH_BIN } = await import('./agent');
  const lab = Lab.load(str(p, 'name')!);
  const node = lab.node(target);
  // `berth run --net` is the runtime's CNI attachment (issue 5): the node's conflist names berth-vxlan
  return passthrough(node.ns, process.execPath, [BERTH_BIN, 'run', '--net', node.conflist, ...rest]);
}

async function demo(p: Parsed): Promise<number> {
  const { runDemo } = await import('./demo');
  return (await runDemo(str(p, 'name')!, (l) => process.stdout.write(l + '\n'))) ? 0 : 1;
}
