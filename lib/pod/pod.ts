// Pods: a pause container holding net, ipc and uts (and, with sharePid, pid) namespaces that other
// containers join (join.ts). One CNI ADD when the pod is created (the pause container's --net), one DEL
// when it is removed. Everything lives under --root: no daemon, and a berth restart changes nothing.
import fs = require('node:fs');
import path = require('node:path');
import * as c from '../runtime/container';
import { containerDir } from '../runtime/state';
import type { ContainerState, Status } from '../runtime/status';
import { BerthError } from '../util/errors';
import { makePauseRootfs, pauseSpec } from './pause-spec';
import { claimPod, listPodNames, pauseId, POD_ANNOTATION, readPod, removePodDir, validatePodName, writePod, type PodRecord } from './store';

export interface PodCreateOptions {
  root: string;
  name: string;
  sharePid?: boolean;
  network: PodRecord['network'];
}

export interface PodInfo extends PodRecord {
  status: Status | 'missing';
  pid: number;
  namespaces: Record<string, string>;
  containers: { id: string; status: Status }[];
  ips: string[];
}

function devNull(): [number, number, number] {
  const fd = fs.openSync('/dev/null', 'r+');
  return [fd, fd, fd];
}

export async function createPod(opts: PodCreateOptions): Promise<PodRecord> {
  const name = validatePodName(opts.name);
  if (opts.network.mode === 'cni' && !opts.network.networks?.length) throw new BerthError('a CNI pod needs at least one network', { field: '--net' });
  const dir = await claimPod(opts.root, name);
  const rec: PodRecord = { name, created: new Date().toISOString(), sharePid: Boolean(opts.sharePid), network: opts.network, pause: pauseId(name) };
  const stdio = devNull();
  try {
    makePauseRootfs(dir);
    await writePod(opts.root, rec);
    const n = opts.network;
    const net = n.mode === 'cni' ? { networks: n.networks!, confDir: n.confDir, cniPath: n.cniPath, capabilityArgs: n.capabilityArgs } : undefined;
    const network = n.mode === 'host' ? 'host' : n.mode === 'container' ? { path: n.netns! } : 'new';
    const pause = await c.create({ id: rec.pause, root: opts.root, bundle: dir, spec: pauseSpec(name, { network }), net, stdio });
    if (network === 'new') await (require('../runtime/loopback') as typeof import('../runtime/loopback')).loopbackUp(`/proc/${pause.pid}/ns/net`);
    await c.start(rec.pause, { root: opts.root });
    return rec;
  } catch (e) {
    await c.del(rec.pause, { root: opts.root, force: true }).catch(() => undefined);
    await removePodDir(opts.root, name);
    throw e;
  } finally {
    fs.closeSync(stdio[0]);
  }
}

/** The containers annotated as members of the pod (the pause container excluded). */
async function members(root: string, name: string): Promise<ContainerState[]> {
  return (await c.list({ root })).filter((s) => s.annotations?.[POD_ANNOTATION] === name);
}

/** The addresses CNI gave the pod, from the pause container's /etc/hosts (network.ts etcFiles). */
function podIps(root: string, rec: PodRecord): string[] {
  try {
    const hosts = fs.readFileSync(path.join(containerDir(root, rec.pause), 'hosts'), 'utf8');
    return hosts.split('\n').map((l) => l.split('\t')).filter((f) => f[1] === rec.name).map((f) => f[0]);
  } catch {
    return [];
  }
}

export async function inspectPod(root: string, name: string): Promise<PodInfo> {
  const rec = await readPod(root, name);
  let pause: ContainerState | undefined;
  try { pause = await c.state(rec.pause, { root }); } catch { /* removed behind our back */ }
  const pid = pause?.status === 'running' ? pause.pid : 0;
  const namespaces: Record<string, string> = {};
  if (pid) for (const ns of sharedNamespaces(rec)) namespaces[ns] = `/proc/${pid}/ns/${NS_FILE[ns]}`;
  const containers = (await members(root, name)).map((s) => ({ id: s.id, status: s.status }));
  return { ...rec, status: pause?.status ?? 'missing', pid, namespaces, containers, ips: podIps(root, rec) };
}

export async function listPods(root: string): Promise<PodInfo[]> {
  const out: PodInfo[] = [];
  for (const name of listPodNames(root)) {
    try { out.push(await inspectPod(root, name)); } catch { /* half-made or removed meanwhile */ }
  }
  return out;
}

/** Stops and deletes the pod's containers, then the pause container (its DEL), then the record. */
export async function removePod(root: string, name: string): Promise<void> {
  validatePodName(name);
  if (!listPodNames(root).includes(name)) throw new BerthError(`pod "${name}" does not exist`, { field: 'NAME' });
  for (const m of await members(root, name)) await c.del(m.id, { root, force: true });
  await c.del(pauseId(name), { root, force: true });
  await removePodDir(root, name);
}

export const NS_FILE: Record<string, string> = { network: 'net', ipc: 'ipc', uts: 'uts', pid: 'pid' };

/** The namespace types members join. */
export function sharedNamespaces(rec: PodRecord): string[] {
  const types = ['ipc', 'uts'];
  if (rec.network.mode !== 'host') types.unshift('network');
  if (rec.sharePid) types.push('pid');
  return types;
}
