// `berth agent run` flags, validated into an AgentConfig; every error names its flag.
import * as os from 'node:os';
import * as path from 'node:path';
import { bool, parseFlags, str, type FlagSpec, type Parsed } from '../../util/command-line';
import { BerthError } from '../../util/errors';
import type { StoreOptions } from './store/open';
import { checkSubnetLen, parseNet } from './subnets';
import { DEFAULT_VXLAN_PORT } from './backends/vxlan/backend';
import { BGP_FLAGS, parseBgpConfig, type BgpAgentConfig } from './backends/bgp/config';
import { DEFAULT_RUN_DIR } from './settings';

export const DEFAULT_DATA_DIR = '/var/lib/berth/agent';

export interface AgentConfig {
  node: string;
  /** underlay interface */
  iface: string;
  publicIp?: string;
  network: string;
  subnetLen: number;
  backend: 'vxlan' | 'bgp' | 'host-gw';
  /** --vxlan-direct-routing: flannel's DirectRouting (vxlan backend) */
  directRouting?: boolean;
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

export const AGENT_FLAGS: FlagSpec = {
  node: { value: true, arg: 'NAME', help: 'this node\'s name in the store (default: the host name)' },
  iface: { value: true, arg: 'IF', default: 'eth0', help: 'the underlay interface' },
  'public-ip': { value: true, arg: 'IP', help: 'the underlay address other nodes reach (default: the interface\'s IPv4 address)' },
  network: { value: true, arg: 'CIDR', default: '10.244.0.0/16', help: 'the cluster\'s container network' },
  'subnet-len': { value: true, arg: 'N', default: '24', help: 'prefix length of each node\'s subnet' },
  backend: { value: true, arg: 'vxlan|bgp|host-gw', default: 'vxlan', help: 'how nodes reach each other\'s subnets' },
  'vxlan-direct-routing': { value: false, help: 'vxlan backend: nodes on this node\'s underlay subnet get a direct route, not VXLAN (flannel\'s DirectRouting)' },
  vni: { value: true, arg: 'N', default: '1', help: 'the VXLAN network identifier' },
  port: { value: true, arg: 'N', default: String(DEFAULT_VXLAN_PORT), help: 'the VXLAN UDP port' },
  store: { value: true, arg: 'embedded|etcd', default: 'embedded', help: 'where node records and leases are kept' },
  'store-dir': { value: true, arg: 'DIR', help: 'the embedded store\'s directory (default: DATA-DIR/store)' },
  'etcd-endpoints': { value: true, arg: 'URL,...', help: 'etcd v3 endpoints, with --store etcd' },
  'etcd-prefix': { value: true, arg: '/P', default: '/berth/network', help: 'key prefix in etcd' },
  ttl: { value: true, arg: 'SECONDS', default: '30', help: 'lease time to live' },
  interval: { value: true, arg: 'SECONDS', help: 'reconcile period (default: 5, at most a third of --ttl)' },
  'data-dir': { value: true, arg: 'DIR', default: DEFAULT_DATA_DIR, help: 'persistent state: last lease, IPAM allocations, the embedded store' },
  'run-dir': { value: true, arg: 'DIR', default: DEFAULT_RUN_DIR, help: 'runtime state: subnet.json for the plugins, status.json' },
  log: { value: true, arg: 'FILE', help: 'append JSON log lines to FILE (default: stderr)' },
  debug: { value: false, help: 'log debug lines' },
  ...BGP_FLAGS,
};

function num(v: string, flag: string, min: number, max: number): number {
  const n = Number(v);
  if (!/^\d+(\.\d+)?$/.test(v) || n < min || n > max) throw new BerthError(`invalid value "${v}" (want a number from ${min} to ${max})`, { field: flag });
  return n;
}

export function parseAgentConfig(argv: string[]): AgentConfig {
  return agentConfig(parseFlags(argv, AGENT_FLAGS, 'berth agent run', false));
}

/** The config from `berth agent run`'s parsed flags (AGENT_FLAGS). */
export function agentConfig(p: Parsed): AgentConfig {
  if (p.positional.length) throw new BerthError(`unexpected argument "${p.positional[0]}"`, { field: 'berth agent run' });
  const node = str(p, 'node') ?? os.hostname();
  if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/.test(node)) throw new BerthError(`invalid node name "${node}"`, { field: '--node' });
  const network = str(p, 'network')!;
  const net = parseNet(network, '--network');
  const subnetLen = num(str(p, 'subnet-len')!, '--subnet-len', 1, 32);
  checkSubnetLen(net, subnetLen, '--subnet-len');
  const backend = str(p, 'backend')!;
  if (backend !== 'vxlan' && backend !== 'bgp' && backend !== 'host-gw') throw new BerthError(`unknown backend "${backend}" (want vxlan, bgp or host-gw)`, { field: '--backend' });
  if (backend !== 'bgp' && str(p, 'network6') !== undefined) throw new BerthError('IPv6 containers need --backend bgp', { field: '--network6' });
  for (const f of ['bgp-ipip', 'bgp-vxlan']) if (backend !== 'bgp' && str(p, f) !== undefined) throw new BerthError('needs --backend bgp', { field: `--${f}` });
  if (backend !== 'vxlan' && bool(p, 'vxlan-direct-routing')) throw new BerthError('needs --backend vxlan', { field: '--vxlan-direct-routing' });
  const dataDir = path.resolve(str(p, 'data-dir')!);
  const kind = str(p, 'store')!;
  if (kind !== 'embedded' && kind !== 'etcd') throw new BerthError(`unknown store "${kind}" (want embedded or etcd)`, { field: '--store' });
  const endpoints = (str(p, 'etcd-endpoints') ?? '').split(',').filter(Boolean);
  if (kind === 'etcd' && endpoints.length === 0) throw new BerthError('required with --store etcd', { field: '--etcd-endpoints' });
  const publicIp = str(p, 'public-ip');
  if (publicIp !== undefined && !/^\d+\.\d+\.\d+\.\d+$/.test(publicIp)) throw new BerthError(`invalid IPv4 address "${publicIp}"`, { field: '--public-ip' });
  const ttlS = num(str(p, 'ttl')!, '--ttl', 2, 86400);
  const intervalS = str(p, 'interval') === undefined ? Math.min(5, ttlS / 3) : num(str(p, 'interval')!, '--interval', 0.1, 3600);
  return {
    node,
    iface: str(p, 'iface')!,
    publicIp,
    network,
    subnetLen,
    backend,
    ...(bool(p, 'vxlan-direct-routing') ? { directRouting: true } : {}),
    bgp: backend === 'bgp' ? parseBgpConfig(p, net, subnetLen) : undefined,
    vni: num(str(p, 'vni')!, '--vni', 0, 0xffffff),
    port: num(str(p, 'port')!, '--port', 1, 65535),
    store: { kind, dir: path.resolve(str(p, 'store-dir') ?? path.join(dataDir, 'store')), endpoints, prefix: str(p, 'etcd-prefix')! },
    ttlMs: ttlS * 1000,
    intervalMs: intervalS * 1000,
    dataDir,
    runDir: path.resolve(str(p, 'run-dir')!),
    logFile: str(p, 'log'),
    debug: bool(p, 'debug'),
  };
}
