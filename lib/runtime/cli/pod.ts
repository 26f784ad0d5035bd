// `berth pod create|ls|inspect|rm`: lib/pod behind the command line.
import * as io from '../../util/io';
import { BerthError } from '../../util/errors';
import { bool, list, str, type Command, type Group, type Parsed } from '../../util/command-line';
import type { Globals } from './context';
import type { PodRecord } from '../../pod/store';

const pod = () => require('../../pod/pod') as typeof import('../../pod/pod');

type Cmd = Command<Globals>;

function needName(p: Parsed, cmd: string): string {
  const name = p.positional[0];
  if (!name) throw new BerthError(`"pod ${cmd}" requires a pod name`, { field: 'NAME' });
  return name;
}

/** --net CONFLIST (repeatable) or --network none|host; CNI networks when --net is given. */
export function podNetwork(p: Parsed): PodRecord['network'] {
  const networks = list(p, 'net');
  const mode = str(p, 'network');
  if (networks.length && mode) throw new BerthError('give --net or --network, not both', { field: '--network' });
  if (networks.length) return { mode: 'cni', networks, confDir: str(p, 'cni-conf-dir'), cniPath: str(p, 'cni-path')?.split(':').filter(Boolean) };
  if (mode === undefined || mode === 'none') return { mode: 'none' };
  if (mode === 'host') return { mode: 'host' };
  throw new BerthError(`unknown mode "${mode}": use none or host, or --net CONFLIST`, { field: '--network' });
}

const create: Cmd = {
  summary: 'create a pod: a pause container holding net, ipc and uts (with --share-pid, pid) namespaces', args: 'NAME',
  flags: {
    net: { value: true, repeat: true, arg: 'NETWORK', help: 'attach the pod to this CNI network (a conflist name or file)' },
    network: { value: true, arg: 'MODE', help: 'none (default: loopback only) or host (the caller\'s network namespace)' },
    'cni-path': { value: true, arg: 'DIRS', help: 'colon-separated directories of CNI plugins' },
    'cni-conf-dir': { value: true, arg: 'DIR', help: 'directory of CNI network configurations' },
    'share-pid': { value: false, help: 'members share one pid namespace, pause as its PID 1' },
  },
  run: async (p, g) => {
    const name = needName(p, 'create');
    await pod().createPod({ root: g.root, name, sharePid: bool(p, 'share-pid'), network: podNetwork(p) });
    io.out(`${name}\n`);
    return 0;
  },
};

const ls: Cmd = {
  summary: 'list the pods under --root',
  flags: {
    format: { value: true, alias: 'f', arg: 'table|json', default: 'table', help: 'output format' },
    quiet: { value: false, alias: 'q', help: 'display only pod names' },
  },
  run: async (p, g) => {
    const pods = await pod().listPods(g.root);
    const format = str(p, 'format')!;
    if (format !== 'table' && format !== 'json') throw new BerthError(`invalid format option "${format}"`, { field: '--format' });
    if (bool(p, 'quiet')) io.out(pods.map((x) => `${x.name}\n`).join(''));
    else if (format === 'json') io.out(JSON.stringify(pods) + '\n');
    else {
      const rows = [['NAME', 'STATUS', 'PID', 'NETWORK', 'CONTAINERS', 'CREATED'],
        ...pods.map((x) => [x.name, x.status, String(x.pid), x.network.mode === 'cni' ? x.network.networks!.join(',') : x.network.mode, String(x.containers.length), x.created])];
      const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
      io.out(rows.map((r) => r.map((v, i) => v.padEnd(widths[i])).join('   ').trimEnd()).join('\n') + '\n');
    }
    return 0;
  },
};

const inspect: Cmd = {
  summary: 'print a pod\'s record, pause process, namespaces, addresses and containers as JSON', args: 'NAME', flags: {},
  run: async (p, g) => {
    io.out(JSON.stringify(await pod().inspectPod(g.root, needName(p, 'inspect')), null, 2) + '\n');
    return 0;
  },
};

const rm: Cmd = {
  summary: 'remove pods: their containers stopped and deleted, then the pause container and its networks', args: 'NAME...', flags: {},
  run: async (p, g) => {
    const names = p.positional.length ? p.positional : [needName(p, 'rm')];
    for (const name of names) await pod().removePod(g.root, name);
    return 0;
  },
};

export const podGroup: Group<Globals> = {
  summary: 'manage pods: containers sharing a pause container\'s namespaces',
  flags: {},
  commands: () => ({ create, ls, inspect, rm }),
  enter: (_p, g) => g,
};
