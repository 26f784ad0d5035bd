// `--net`: attach a container's network namespace to CNI networks the way libcni-based runtimes do,
// and give it /etc/hosts and /etc/resolv.conf from the results. Detached, in reverse, on delete.
import * as fsp from '../util/fs-async';
import path = require('node:path');
import type { NetworkList } from '../cni/libcni';
import type { Result } from '../cni/types';
import { installRoot } from '../util/install';
import * as io from '../util/io';

/** What the state file keeps of one attachment, enough to DEL it later. */
export interface Attachment {
  network: string; // the --net argument: a file or a network name
  confDir: string;
  ifname: string;
  cniPath: string[];
  /** runtimeConfig values (portMappings for `-p`), kept for the DEL */
  capabilityArgs?: Record<string, unknown>;
}

export interface NetOptions {
  networks: string[];
  confDir?: string;
  cniPath?: string[];
  capabilityArgs?: Record<string, unknown>;
}

export const DEFAULT_CNI_PATH = ['/opt/cni/bin', path.join(installRoot(), 'bin')];

const libcni = () => require('../cni/libcni') as typeof import('../cni/libcni');

function cniPathOf(opts: NetOptions): string[] {
  if (opts.cniPath?.length) return opts.cniPath;
  const fromEnv = io.env().CNI_PATH;
  if (fromEnv) return fromEnv.split(':').filter(Boolean);
  return DEFAULT_CNI_PATH;
}

function load(a: Attachment): NetworkList {
  return libcni().loadNetworkList(a.network, a.confDir);
}

/** The attachments attachNetworks makes, in order (eth0, eth1, ...): recorded before it runs. */
export function planAttachments(opts: NetOptions): Attachment[] {
  const confDir = opts.confDir ?? '/etc/cni/net.d';
  const cniPath = cniPathOf(opts);
  return opts.networks.map((network, i) => ({ network, confDir, ifname: `eth${i}`, cniPath, ...(opts.capabilityArgs ? { capabilityArgs: opts.capabilityArgs } : {}) }));
}

/** ADDs every network in order (eth0, eth1, ...); on failure removes what was added and rethrows. */
export async function attachNetworks(id: string, netns: string, opts: NetOptions): Promise<{ attachments: Attachment[]; results: Result[] }> {
  const attachments: Attachment[] = [];
  const results: Result[] = [];
  try {
    for (const a of planAttachments(opts)) {
      results.push(await libcni().addNetworkList(load(a), { containerId: id, netns, ifname: a.ifname, cniPath: a.cniPath, capabilityArgs: a.capabilityArgs }));
      attachments.push(a);
    }
  } catch (e) {
    await detachNetworks(id, netns, attachments).catch(() => undefined);
    throw e;
  }
  return { attachments, results };
}

/** DELs in reverse order; DEL is idempotent, so a gone netns or a missing resource is fine. */
export async function detachNetworks(id: string, netns: string, attachments: Attachment[]): Promise<void> {
  let first: unknown;
  for (const a of [...attachments].reverse()) {
    try {
      await libcni().delNetworkList(load(a), { containerId: id, netns, ifname: a.ifname, cniPath: a.cniPath, capabilityArgs: a.capabilityArgs });
    } catch (e) {
      first ??= e;
    }
  }
  if (first) throw first;
}

function address(cidr: string): string {
  return cidr.split('/')[0];
}

/** /etc/hosts and /etc/resolv.conf contents for the container, from its CNI results. */
export function etcFiles(hostname: string, results: Result[]): { hosts: string; resolv: string } {
  const ips = results.flatMap((r) => (r.ips ?? []).map((ip) => address(ip.address)));
  const hosts = ['127.0.0.1\tlocalhost', '::1\tlocalhost ip6-localhost ip6-loopback', ...ips.map((ip) => `${ip}\t${hostname}`)].join('\n') + '\n';
  const dns = results.map((r) => r.dns).filter((d) => d && (d.nameservers?.length || d.search?.length || d.domain));
  const lines: string[] = [];
  const nameservers = [...new Set(dns.flatMap((d) => d!.nameservers ?? []))];
  const search = [...new Set(dns.flatMap((d) => d!.search ?? (d!.domain ? [d!.domain] : [])))];
  const options = [...new Set(dns.flatMap((d) => d!.options ?? []))];
  for (const ns of nameservers) lines.push(`nameserver ${ns}`);
  if (search.length) lines.push(`search ${search.join(' ')}`);
  if (options.length) lines.push(`options ${options.join(' ')}`);
  return { hosts, resolv: lines.length ? lines.join('\n') + '\n' : '' };
}

export async function writeEtcFiles(dir: string, files: { hosts: string; resolv: string }): Promise<void> {
  await fsp.writeFile(path.join(dir, 'hosts'), files.hosts);
  await fsp.writeFile(path.join(dir, 'resolv.conf'), files.resolv);
}
