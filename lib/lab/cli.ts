// `berth lab`: up, down, status, exec, run. The lab's modules load only for the sub-command used.
import { spawn } from 'node:child_process';
import type { Globals } from '../runtime/cli/context';
import { int, parseFlags, str } from '../runtime/cli/args';
import { BerthError } from '../util/errors';

const USAGE = `usage: berth lab up --nodes N [--name LAB] [--network vxlan|bgp] [--store embedded|etcd] [--mtu N] [--ttl S] [--interval S]
       berth lab status [--name LAB]
       berth lab exec [--name LAB] NODE|world -- CMD [ARGS...]
       berth lab run [--name LAB] NODE [berth run args]   (berth run inside NODE with --net set to the node's network)
       berth lab down [--name LAB]
       berth lab demo [--name LAB]   (2 nodes, a busybox container on each pinging the other, then down)
`;

const NAME = { name: { value: true } } as const;

export async function labCommand(argv: string[], _g: Globals): Promise<number> {
  const [sub, ...rest] = argv;
  switch (sub) {
    case 'up': return up(rest);
    case 'down': return down(rest);
    case 'status': return status(rest);
    case 'exec': return exec(rest);
    case 'run': return run(rest);
    case 'demo': return demo(rest);
    case undefined: case 'help': case '--help': case '-h':
      process.stdout.write(USAGE);
      return sub === undefined ? 1 : 0;
    default:
      throw new BerthError(`unknown lab command "${sub}" (want up, down, status, exec, run or demo)`, { field: 'berth lab' });
  }
}

async function up(argv: string[]): Promise<number> {
  const p = parseFlags(argv, { ...NAME, nodes: { value: true }, network: { value: true }, store: { value: true }, mtu: { value: true }, ttl: { value: true }, interval: { value: true } }, 'berth lab up', false);
  if (p.positional.length) throw new BerthError(`unexpected argument "${p.positional[0]}"`, { field: 'berth lab up' });
  if (str(p, 'nodes') === undefined) throw new BerthError('required', { field: '--nodes' });
  const { Lab } = await import('./lab');
  const lab = await Lab.up({
    name: str(p, 'name') ?? 'berth', nodes: int(p, 'nodes', 0), network: str(p, 'network') as 'vxlan' | undefined,
    store: str(p, 'store') as 'embedded' | undefined, mtu: int(p, 'mtu', 1500), ttlS: int(p, 'ttl', 10), intervalS: int(p, 'interval', 1),
  });
  printStatus(lab);
  return 0;
}

function printStatus(lab: import('./lab').Lab): void {
  const s = lab.state;
  const lines = [`lab ${s.name}: ${s.nodes.length} node(s), ${s.network} over ${s.store} store, cluster ${s.cidr}${s.etcd ? `, etcd ${s.etcd.endpoint} (pid ${s.etcd.pid})` : ''}`];
  for (const n of s.nodes) {
    let sub = '-';
    try { const x = lab.settings(n.name); sub = `${x.subnet} mtu ${x.mtu}`; } catch { /* agent not ready */ }
    lines.push(`  ${n.name}  underlay ${n.ip}  subnet ${sub}  agent ${n.agentPid ?? 'stopped'}  netns ${n.ns}`);
  }
  process.stdout.write(lines.join('\n') + '\n');
}

async function status(argv: string[]): Promise<number> {
  const p = parseFlags(argv, NAME, 'berth lab status');
  const { Lab } = await import('./lab');
  printStatus(Lab.load(str(p, 'name') ?? 'berth'));
  return 0;
}

async function down(argv: string[]): Promise<number> {
  const p = parseFlags(argv, NAME, 'berth lab down');
  const { Lab } = await import('./lab');
  const name = str(p, 'name') ?? 'berth';
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

async function exec(argv: string[]): Promise<number> {
  const p = parseFlags(argv, NAME, 'berth lab exec');
  const [target, ...rest] = p.positional;
  const cmd = rest[0] === '--' ? rest.slice(1) : rest;
  if (!target || cmd.length === 0) throw new BerthError('want NODE -- CMD [ARGS...]', { field: 'berth lab exec' });
  const { Lab } = await import('./lab');
  return passthrough(Lab.load(str(p, 'name') ?? 'berth').nsOf(target), cmd[0], cmd.slice(1));
}

async function run(argv: string[]): Promise<number> {
  const p = parseFlags(argv, NAME, 'berth lab run');
  const [target, ...rest] = p.positional;
  if (!target) throw new BerthError('want NODE [berth run args]', { field: 'berth lab run' });
  const { Lab } = await import('./lab');
  const { BERTH_BIN } = await import('./agent');
  const lab = Lab.load(str(p, 'name') ?? 'berth');
  const node = lab.node(target);
  // `berth run --net` is the runtime's CNI attachment (issue 5): the node's conflist names berth-vxlan
  return passthrough(node.ns, process.execPath, [BERTH_BIN, 'run', '--net', node.conflist, ...rest]);
}

async function demo(argv: string[]): Promise<number> {
  const p = parseFlags(argv, NAME, 'berth lab demo');
  const { runDemo } = await import('./demo');
  return (await runDemo(str(p, 'name') ?? 'demo', (l) => process.stdout.write(l + '\n'))) ? 0 : 1;
}
