// `berth agent run` flags, validated into an AgentConfig; every error names its flag.
import * as os from 'node:os';
import * as path from 'node:path';
import { parseFlags, str, bool } from '../../runtime/cli/args';
import { BerthError } from '../../util/errors';
import type { StoreOptions } from './store';
import { checkSubnetLen, parseNet } from './subnets';
import { DEFAULT_VXLAN_PORT } from './vxlan';
import { BGP_FLAGS, parseBgpConfig, type BgpAgentConfig } from './bgp-config';

export const DEFAULT_DATA_DIR = '/var/lib/berth/agent';
export const DEFAULT_RUN_DIR = '/run/berth/agent';

export interface AgentConfig {
  node: string;
  /** underlay interface */
  iface: string;
  publicIp?: string;
  network: string;
  subnetLen: number;
  backend: 'vxlan' | 'bgp';
  /** set with --backend bgp */
  bgp?: BgpAgentConfig;
  vni: number;
  port: number;
  store: StoreOptions;
  ttlMs: number;
  /** reconcile period */
  intervalMs: number;
  /** persistent state: last lease, IPAM allocations, the embedded store by default */
  dataDir: string;
  /** runtime state: subnet.json for the plugin, status.json */
  runDir: string;
  logFile?: string;
  debug: boolean;
}

export const AGENT_FLAGS = {
  node: { value: true }, iface: { value: true }, 'public-ip': { value: true }, network: { value: true },
  'subnet-len': { value: true }, backend: { value: true }, vni: { value: true }, port: { value: true },
  store: { value: true }, 'store-dir': { value: true }, 'etcd-endpoints': { value: true }, 'etcd-prefix': { value: true },
  ttl: { value: true }, interval: { value: true }, 'data-dir': { value: true }, 'run-dir': { value: true },
  log: { value: true }, debug: { value: false }, ...BGP_FLAGS,
} as const;

function num(v: string | undefined, flag: string, dflt: number, min: number, max: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!/^\d+(\.\d+)?$/.test(v) || n < min || n > max) throw new BerthError(`invalid value "${v}" (want a number from ${min} to ${max})`, { field: flag });
  return n;
}

export function parseAgentConfig(argv: string[]): AgentConfig {
  const p = parseFlags(argv, { ...AGENT_FLAGS }, 'berth agent run', false);
  if (p.positional.length) throw new BerthError(`unexpected argument "${p.positional[0]}"`, { field: 'berth agent run' });
  const node = str(p, 'node') ?? os.hostname();
  if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/.test(node)) throw new BerthError(`invalid node name "${node}"`, { field: '--node' });
  const network = str(p, 'network') ?? '10.244.0.0/16';
  const net = parseNet(network, '--network');
  const subnetLen = num(str(p, 'subnet-len'), '--subnet-len', 24, 1, 32);
  checkSubnetLen(net, subnetLen, '--subnet-len');
  const backend = str(p, 'backend') ?? 'vxlan';
  if (backend !== 'vxlan' && backend !== 'bgp') throw new BerthError(`unknown backend "${backend}" (want vxlan or bgp)`, { field: '--backend' });
  if (backend !== 'bgp' && str(p, 'network6') !== undefined) throw new BerthError('IPv6 containers need --backend bgp', { field: '--network6' });
  const dataDir = path.resolve(str(p, 'data-dir') ?? DEFAULT_DATA_DIR);
  const kind = str(p, 'store') ?? 'embedded';
  if (kind !== 'embedded' && kind !== 'etcd') throw new BerthError(`unknown store "${kind}" (want embedded or etcd)`, { field: '--store' });
  const endpoints = (str(p, 'etcd-endpoints') ?? '').split(',').filter(Boolean);
  if (kind === 'etcd' && endpoints.length === 0) throw new BerthError('required with --store etcd', { field: '--etcd-endpoints' });
  const publicIp = str(p, 'public-ip');
  if (publicIp !== undefined && !/^\d+\.\d+\.\d+\.\d+$/.test(publicIp)) throw new BerthError(`invalid IPv4 address "${publicIp}"`, { field: '--public-ip' });
  const ttlS = num(str(p, 'ttl'), '--ttl', 30, 2, 86400);
  const intervalS = num(str(p, 'interval'), '--interval', Math.min(5, ttlS / 3), 0.1, 3600);
  return {
    node,
    iface: str(p, 'iface') ?? 'eth0',
    publicIp,
    network,
    subnetLen,
    backend,
    bgp: backend === 'bgp' ? parseBgpConfig(p, net, subnetLen) : undefined,
    vni: num(str(p, 'vni'), '--vni', 1, 0, 0xffffff),
    port: num(str(p, 'port'), '--port', DEFAULT_VXLAN_PORT, 1, 65535),
    store: { kind, dir: path.resolve(str(p, 'store-dir') ?? path.join(dataDir, 'store')), endpoints, prefix: str(p, 'etcd-prefix') ?? '/berth/network' },
    ttlMs: ttlS * 1000,
    intervalMs: intervalS * 1000,
    dataDir,
    runDir: path.resolve(str(p, 'run-dir') ?? DEFAULT_RUN_DIR),
    logFile: str(p, 'log'),
    debug: bool(p, 'debug'),
  };
}
