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

/** --net CONFLIST (repeatable) or --network bridge|host|none|container:ID (default none), with -p for bridge. */
export async function podNetwork(p: Parsed, root: string): Promise<PodRecord['network']> {
  const networks = list(p, 'net');
  const value = str(p, 'network');
  const cniPath = str(p, 'cni-path')?.split(':').filter(Boolean);
  if (networks.length && value) throw new BerthError('give --net or --network, not both', { field: '--network' });
  const m = require('../network-mode') as typeof import('../network-mode');
  const publish = m.parsePublish(list(p, 'publish'));
  if (networks.length) {
    if (publish.length) throw new BerthError('port mapping needs --network bridge', { field: '--publish' });
    return { mode: 'cni', networks, confDir: str(p, 'cni-conf-dir'), cniPath };
  }
  const mode = m.parseNetworkMode(value ?? 'none');
  const o = await m.modeOptions(root, mode, publish, cniPath);
  if (mode.kind === 'bridge') return { mode: 'cni', networks: o.net!.networks, cniPath, capabilityArgs: o.net!.capabilityArgs };
  if (mode.kind === 'container') return { mode: 'container', netns: o.join!.namespaces[0].path };
  return { mode: mode.kind };
}

const create: Cmd = {
  summary: 'create a pod: a pause container holding net, ipc and uts (with --share-pid, pid) namespaces', args: 'NAME',
  flags: {
    net: { value: true, repeat: true, arg: 'NETWORK', help: 'attach the pod to this CNI network (a conflist name or file)' },
    network: { value: true, arg: 'MODE', help: 'bridge (berth0, made in the caller\'s network namespace), host, none (the default: loopback only) or container:ID' },
    publish: { value: true, repeat: true, alias: 'p', arg: 'HOST:CONTAINER[/proto]', help: 'map a host port to the pod (--network bridge)' },
    'cni-path': { value: true, arg: 'DIRS', help: 'colon-separated directories of CNI plugins' },
    'cni-conf-dir': { value: true, arg: 'DIR', help: 'directory of CNI network configurations' },
    'share-pid': { value: false, help: 'members share one pid namespace, pause as its PID 1' },
  },
  run: async (p, g) => {
    const name = needName(p, 'create');
    await pod().createPod({ root: g.root, name, sharePid: bool(p, 'share-pid'), network: await podNetwork(p, g.root) });
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
