// create: the container set up, its process waiting on its exec fifo until start() (or exec'ing at once
// for run()). Explicit steps over an undo stack: each side effect records how to take it back, and a
// failure undoes them newest first. Before the first side effect the container's directory holds its
// intent (sys.ts Intent): a create killed at any instant leaves a record delete --force works from.
import path = require('node:path');
import type * as Cgroups from '../../cgroups';
import { BerthError, ConfigError } from '../../util/errors';
import { rollback, type Undo } from '../../util/rollback';
import { devicesAtCreate } from '../device-rules';
import type { NetOptions } from '../network';
import type { LinuxDeviceCgroup, Mount, Namespace, NamespaceType, Spec } from '../spec/types';
import { DEFAULT_ROOT, execFifoPath, type StoredState } from '../state';
import type { CommonOptions } from '../status';
import type { Intent, Sys } from '../sys';
import { hostId, idMapText } from './id-maps';
import { deviceRules, imageSpec, network, plans, validation } from './modules';
import { ociState } from './oci-state';
import { compiledSeccomp } from './seccomp-cache';
import { bundleSpec } from './spec-loader';

export interface CreateOptions extends CommonOptions {
  id: string;
  bundle: string;
  /** a parsed config; read from <bundle>/config.json when absent */
  spec?: Spec;
  pidFile?: string;
  consoleSocket?: string;
  noPivot?: boolean;
  preserveFds?: number;
  /** fds for the container's 0, 1, 2 (library use); default: inherit ours */
  stdio?: [number, number, number];
  /** CNI networks to attach (`--net`), with eth0, eth1, ... in order */
  net?: NetOptions;
  /** start from an image of the OverlayFS store instead of a bundle's rootfs (`--image`) */
  image?: { dataRoot: string; name: string; args?: string[] };
  /** exec the program as soon as it is set up, without waiting for start() (what run() uses) */
  startNow?: boolean;
  /** bring lo up in the container's new network namespace (--network none|bridge, as Docker does) */
  loopback?: boolean;
  /** namespaces to join and mounts to add, whatever the config says (a pod's, `--pod`: lib/pod/join.ts) */
  join?: Joined;
}

export interface Joined {
  namespaces: Namespace[];
  /** namespace types the container must not have at all (a host-network pod: no network namespace) */
  drop?: NamespaceType[];
  mounts?: Mount[];
  annotations?: Record<string, string>;
}

/** The config with the joined namespaces in place of its own of those types; a joined uts keeps its hostname. */
function withJoined(spec: Spec, join: Joined | undefined): Spec {
  if (!join) return spec;
  const types = new Set([...join.namespaces.map((n) => n.type), ...(join.drop ?? [])]);
  const own = (spec.linux?.namespaces ?? []).filter((n) => !types.has(n.type));
  const { hostname: _hostname, ...rest } = spec;
  const out: Spec = {
    ...(types.has('uts') ? rest : spec),
    mounts: [...(spec.mounts ?? []).filter((m) => !(join.mounts ?? []).some((j) => j.destination === m.destination)), ...(join.mounts ?? [])],
    annotations: { ...(spec.annotations ?? {}), ...(join.annotations ?? {}) },
    linux: { ...(spec.linux ?? {}), namespaces: [...own, ...join.namespaces] },
  };
  validation().validateSpec(out);
  return out;
}

/** One create in progress: what the steps share. */
interface Creating {
  opts: CreateOptions;
  sys: Sys;
  root: string;
  dir: string;
  intent: Intent;
  undo: Undo;
  bundle: string;
  spec: Spec;
}

/** A config's checks that need no side effect, so a bad config fails before anything exists. */
function checkSpec(spec: Spec, opts: CreateOptions, sys: Sys): void {
  if (opts.net?.networks.length && !(spec.linux?.namespaces ?? []).some((n) => n.type === 'network'))
    throw new ConfigError('--net', 'attaching networks needs a network namespace in linux.namespaces');
  if (spec.linux?.resources) sys.cgroups.validate(spec.linux.resources, sys.cgroups.layout());
  if (spec.process!.terminal && !opts.consoleSocket && !opts.stdio) throw new ConfigError('process.terminal', 'a terminal needs --console-socket');
  compiledSeccomp(spec.linux?.seccomp);
}

/** The bundle's config (validated once per version of config.json) or the one given. */
async function bundleConfig(opts: CreateOptions): Promise<Spec> {
  if (!opts.spec) return bundleSpec(path.resolve(opts.bundle));
  validation().validateSpec(opts.spec);
  return opts.spec;
}

/** Without a mount namespace the bootstrap binds the rootfs in ours: recorded, so that delete --force finds it. */
function rootfsBindOf(spec: Spec, bundle: string): string | undefined {
  return (spec.linux?.namespaces ?? []).some((n) => n.type === 'mount') ? undefined : path.resolve(bundle, spec.root!.path);
}

/** Step: the image's overlay root under the store, and a config from the image unless one was given. */
async function prepareImageRoot(r: Creating, image: NonNullable<CreateOptions['image']>): Promise<void> {
  const owner = path.resolve(r.dir);
  // a prepare that fails removes what it made itself (and must not touch a root the id already has)
  const { rootfs, config } = await r.sys.prepareRootfs(image.dataRoot, image.name, r.opts.id, owner);
  r.undo.push(() => r.sys.releaseRootfs(image.dataRoot, r.opts.id, owner));
  r.spec = withJoined(r.opts.spec ?? imageSpec().specFromImage(config, rootfs, { args: image.args, hostname: r.opts.id }), r.opts.join);
  validation().validateSpec(r.spec);
  checkSpec(r.spec, r.opts, r.sys);
  r.bundle = path.dirname(rootfs);
  // the cgroups path is known now: recorded before they are made
  r.intent.cgroup = r.sys.cgroups.plan(r.spec.linux?.cgroupsPath, r.opts.id);
  r.intent.rootfsBind = rootfsBindOf(r.spec, r.bundle);
  await r.sys.writeIntent(r.root, r.intent);
}

interface CgroupsMade {
  made: Promise<Cgroups.CgroupHandle>;
  /** device rules applied once the mounts are done (devicesAtCreate) */
  lateDevices?: LinuxDeviceCgroup[];
}

/**
 * Step: the cgroups, made while the process is cloned and unshares its namespaces; it joins them once it
 * reports its pid. Device rules go in with the other limits unless a mount could need a denied device.
 */
function makeCgroups(r: Creating): CgroupsMade {
  const resources = r.spec.linux?.resources;
  const { devices: _ownRules, ...limits } = resources ?? {};
  const rules = deviceRules().deviceRules(r.spec);
  const early = Boolean(rules?.length) && devicesAtCreate(r.spec);
  const planned = r.intent.cgroup!;
  const made = r.sys.cgroups.create({
    cgroupsPath: r.spec.linux?.cgroupsPath, containerId: r.opts.id,
    resources: resources ? (early ? { ...limits, devices: rules } : limits) : undefined,
  });
  made.catch(() => undefined); // awaited once the pid is known; a failure before then must not go unhandled
  // idempotent, and what the intent records: undone even when creating them failed half-way
  r.undo.push(() => made.catch(() => undefined).then(() => r.sys.cgroups.destroy(planned)));
  return { made, lateDevices: rules?.length && !early ? rules : undefined };
}

/** Step: the fifo a created process waits on (inside the container's directory, removed with it). */
async function makeExecFifo(r: Creating): Promise<string | null> {
  if (r.opts.startNow) return null;
  const fifo = execFifoPath(r.root, r.opts.id);
  const linux = r.spec.linux;
  await r.sys.makeExecFifo(fifo, hostId(linux?.uidMappings, 0), hostId(linux?.gidMappings, 0));
  return fifo;
}

/** The container's /etc/hosts and /etc/resolv.conf: bound now, filled once CNI has answered. */
async function withEtcMounts(r: Creating): Promise<Spec> {
  if (!r.opts.net?.networks.length) return r.spec;
  const files = await r.sys.makeEtcFiles(r.dir);
  return {
    ...r.spec,
    mounts: [
      ...(r.spec.mounts ?? []),
      { destination: '/etc/hosts', type: 'bind', source: files.hosts, options: ['rbind', 'rprivate'] },
      { destination: '/etc/resolv.conf', type: 'bind', source: files.resolv, options: ['rbind', 'rprivate'] },
    ],
  };
}

/** Step: clone the process and answer the bootstrap; cgroups, state and networks as the pid arrives. */
async function launchProcess(r: Creating, cgroups: CgroupsMade, fifo: string | null, consoleFd: number): Promise<StoredState> {
  const { opts, sys, spec } = r;
  const hooks = spec.hooks ?? {};
  const pauseAfterMounts = Boolean(cgroups.lateDevices || hooks.prestart?.length || hooks.createRuntime?.length || hooks.createContainer?.length || hooks.startContainer?.length);
  const networks = opts.net?.networks ?? [];
  const built = plans().buildCreatePlan(await withEtcMounts(r), {
    bundle: r.bundle, execFifo: fifo, consoleSocketFd: consoleFd, preserveFds: opts.preserveFds,
    noPivot: opts.noPivot, stdio: opts.stdio, pauseAfterMounts, cgroupPaths: r.intent.cgroup!.paths, seccomp: compiledSeccomp(spec.linux?.seccomp),
    readInRoot: sys.readInRoot, selfJoin: sys.cgroups.selfJoin(r.intent.cgroup!),
  });
  // The process joins its cgroups itself (plan.ts decides when it can), the v2 one at clone: they must exist
  // before it is cloned. It then needs nothing from us before it sets up, unless its network must be ready
  // first (it may exec as soon as it is set up): it goes on without waiting for our answer to its pid.
  const selfJoins = built.cgroupTasks.length > 0 || built.cgroupV2 !== null;
  const plan = { ...built, waitPlaced: !selfJoins || networks.length > 0 || Boolean(opts.loopback) };
  if (selfJoins) await cgroups.made;
  const st: StoredState = {
    id: opts.id, bundle: r.bundle, rootfs: plan.rootfs!, pid: 0, pidStartTime: '', created: new Date().toISOString(),
    annotations: spec.annotations ?? {}, owner: '', cgroup: null, namespaces: (spec.linux?.namespaces ?? []).map((n) => n.type), config: spec,
    ...(opts.image ? { image: { dataRoot: opts.image.dataRoot, name: opts.image.name } } : {}),
  };
  // launch() kills a process whose setup failed; this covers the steps after it
  // no mount namespace: the bootstrap's rootfs bind lives in our own mount namespace
  if (!st.namespaces.includes('mount')) r.undo.push(() => sys.releaseRootfsBind(st.rootfs));
  r.undo.push(async () => { if (st.pid > 0) sys.killLaunched(st.pid); });
  // Without networks (their attachments go into the state) the state is written as soon as the pid is
  // known, alongside joining the cgroups: `state` then shows the container while it sets up, as runc does.
  let stateWritten: Promise<void> | undefined;
  const saveState = async (p: number, startTime?: string) => {
    st.pid = p;
    st.pidStartTime = startTime ?? (await sys.startTime(p)) ?? '';
    await sys.writeState(r.root, st);
  };
  const launched = await sys.launch(plan, {
    onNeedMaps: (p) => sys.writeIdMaps(p, idMapText(spec.linux?.uidMappings), idMapText(spec.linux?.gidMappings)),
    onPid: async (p, startTime) => {
      st.pid = p;
      const cgroup = st.cgroup = await cgroups.made;
      if (JSON.stringify(cgroup.paths) !== JSON.stringify(r.intent.cgroup!.paths)) throw new BerthError(`cgroup paths changed under container ${opts.id}`);
      if (!networks.length) {
        stateWritten = saveState(p, startTime);
        stateWritten.catch(() => undefined); // awaited once launched
      }
      if (!selfJoins) await sys.cgroups.join(cgroup, p);
      if (opts.loopback) await sys.loopbackUp(`/proc/${p}/ns/net`);
      if (networks.length) {
        const netns = `/proc/${p}/ns/net`;
        const attached = await sys.attachNetworks(opts.id, netns, opts.net!);
        st.networks = attached.attachments;
        r.undo.push(() => sys.detachNetworks(opts.id, netns, attached.attachments));
        await sys.writeEtcFiles(r.dir, network().etcFiles(spec.hostname ?? opts.id, attached.results));
      }
    },
    onMounted: async (p) => {
      if (cgroups.lateDevices) await sys.cgroups.update(st.cgroup!, { devices: cgroups.lateDevices });
      const state = ociState({ ...st, pid: p }, 'creating');
      await sys.runHooks(hooks.prestart, state, 'prestart');
      await sys.runHooks(hooks.createRuntime, state, 'createRuntime');
      return JSON.stringify(ociState({ ...st, pid: p }, 'created'));
    },
  });
  await (stateWritten ?? saveState(launched.pid));
  return st;
}

/** Creates the container and returns what its state file holds. */
export async function createStored(opts: CreateOptions, sys: Sys): Promise<StoredState> {
  const root = opts.root ?? DEFAULT_ROOT;
  validation().validateContainerId(opts.id);
  // everything that can fail on input fails here, before anything exists
  const spec = opts.image ? undefined : withJoined(await bundleConfig(opts), opts.join);
  if (spec) checkSpec(spec, opts, sys);
  const intent: Intent = {
    id: opts.id,
    ...(spec ? { cgroup: sys.cgroups.plan(spec.linux?.cgroupsPath, opts.id), rootfsBind: rootfsBindOf(spec, opts.bundle) } : {}),
    ...(opts.image ? { image: { dataRoot: opts.image.dataRoot, name: opts.image.name } } : {}),
    ...(opts.net?.networks.length ? { networks: sys.planNetworks(opts.net) } : {}),
  };
  const dir = await sys.claim(root, intent);
  const r: Creating = { opts, sys, root, dir, intent, undo: [], bundle: path.resolve(opts.bundle), spec: spec! };
  let unlock: (() => void) | undefined;
  let consoleSock: { fd: number; close(): void } | undefined;
  try {
    unlock = await sys.lock(root, opts.id);
    if (opts.image) await prepareImageRoot(r, opts.image);
    const cgroups = makeCgroups(r);
    const fifo = await makeExecFifo(r);
    if (opts.consoleSocket) consoleSock = await sys.connectConsole(opts.consoleSocket);
    const st = await launchProcess(r, cgroups, fifo, consoleSock?.fd ?? -1);
    if (opts.pidFile) await sys.writePidFile(opts.pidFile, st.pid);
    if (opts.startNow) await sys.runHooks(r.spec.hooks?.poststart, ociState(st, 'running'), 'poststart');
    return st;
  } catch (e) {
    // the directory (with the intent) goes last, and only once everything it records is gone: otherwise
    // it stays for delete --force to finish the job
    if (await rollback(r.undo)) await sys.removeContainerDir(root, opts.id).catch(() => undefined);
    throw e;
  } finally {
    consoleSock?.close();
    unlock?.();
  }
}
