// Docker's four network modes (`--network`): bridge (berth's default network: bridge berth0, berth-ipam,
// masquerade, `-p` through berth-portmap; created in the caller's network namespace on first use), host (no
// network namespace), none (a new one with loopback only) and container:ID (a running container's own,
// whose CNI DEL stays with that container).
import fs = require('node:fs');
import path = require('node:path');
import { BerthError } from '../util/errors';
import { writeFileAtomicSync } from '../util/fs';
import type { Joined } from './lifecycle/create';
import type { NetOptions } from './network';
import { readState } from './state';
import { statusOf } from './status';

export type NetworkMode = { kind: 'bridge' } | { kind: 'host' } | { kind: 'none' } | { kind: 'container'; id: string };

export interface PortMapping { hostPort: number; containerPort: number; protocol: 'tcp' | 'udp' | 'sctp' }

/** The default network's bridge and subnet (Docker's docker0 and 172.17/16, podman's podman0 and 10.88/16). */
export const DEFAULT_BRIDGE = 'berth0';
export const DEFAULT_SUBNET = '10.222.0.0/16';

export function parseNetworkMode(value: string): NetworkMode {
  if (value === 'bridge' || value === 'host' || value === 'none') return { kind: value };
  if (value.startsWith('container:') && value.length > 'container:'.length) return { kind: 'container', id: value.slice('container:'.length) };
  throw new BerthError(`unknown mode "${value}": use bridge, host, none or container:ID`, { field: '--network' });
}

/** `-p HOST:CONTAINER[/proto]`, each a port from 1 to 65535. */
export function parsePublish(values: string[]): PortMapping[] {
  return values.map((v) => {
    const m = /^(\d+):(\d+)(?:\/(tcp|udp|sctp))?$/.exec(v);
    const ok = (n: number) => Number.isInteger(n) && n >= 1 && n <= 65535;
    if (!m || !ok(Number(m[1])) || !ok(Number(m[2]))) throw new BerthError(`invalid "${v}": use HOST:CONTAINER[/tcp|udp|sctp], ports 1-65535`, { field: '--publish' });
    return { hostPort: Number(m[1]), containerPort: Number(m[2]), protocol: (m[3] ?? 'tcp') as PortMapping['protocol'] };
  });
}

/** <root>/.networks/bridge.conflist, written on first use; its IPAM state beside it. */
export function defaultBridgeConflist(root: string): string {
  const dir = path.join(root, '.networks');
  const file = path.join(dir, 'bridge.conflist');
  if (fs.existsSync(file)) return file;
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileAtomicSync(file, JSON.stringify({
    cniVersion: '1.1.0', name: 'bridge',
    plugins: [
      {
        type: 'berth-bridge', bridge: DEFAULT_BRIDGE, isGateway: true, isDefaultGateway: true, ipMasq: true, hairpinMode: true,
        ipam: { type: 'berth-ipam', subnet: DEFAULT_SUBNET, dataDir: path.join(dir, 'ipam') },
      },
      { type: 'berth-portmap', snat: true, capabilities: { portMappings: true } },
    ],
  }, null, 2) + '\n', 0o600);
  return file;
}

export interface ModeOptions {
  net?: NetOptions;
  join?: Joined;
  loopback?: boolean;
}

// a network namespace of its own whatever the config says
const NEW_NETNS: Joined = { namespaces: [{ type: 'network' }] };

/** The create options a mode stands for. */
export async function modeOptions(root: string, mode: NetworkMode, publish: PortMapping[], cniPath?: string[]): Promise<ModeOptions> {
  if (publish.length && mode.kind !== 'bridge') throw new BerthError('port mapping needs --network bridge', { field: '--publish' });
  switch (mode.kind) {
    case 'bridge':
      return {
        net: { networks: [defaultBridgeConflist(root)], cniPath, ...(publish.length ? { capabilityArgs: { portMappings: publish } } : {}) },
        join: NEW_NETNS, loopback: true,
      };
    case 'host':
      return { join: { namespaces: [], drop: ['network'] } };
    case 'none':
      return { join: NEW_NETNS, loopback: true };
    case 'container':
      return { join: { namespaces: [{ type: 'network', path: await runningNetns(root, mode.id) }] } };
  }
}

async function runningNetns(root: string, id: string): Promise<string> {
  let pid = 0;
  try {
    const s = await readState(root, id);
    if ((await statusOf(root, s)) !== 'stopped') pid = s.pid;
  } catch { /* no such container: below */ }
  if (!pid) throw new BerthError(`container "${id}" is not running`, { field: '--network' });
  return `/proc/${pid}/ns/net`;
}
