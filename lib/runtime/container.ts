// The runtime as a library: create, start, run, exec, kill, wait, state, delete, list.
// The CLI (cli/) is a thin layer over these; a Node program can call them directly.
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import type * as net from 'node:net';
import * as path from 'node:path';
import type * as Cgroups from '../cgroups';
import { native } from '../sys/native';
import { BerthError, ConfigError, errnoCode } from '../util/errors';
import { writeFileAtomic } from '../util/fs';
import type { LinuxSeccomp, NamespaceType, Process, Spec, State } from './spec/types';
import { statusOf, toContainerState, type CommonOptions, type ContainerState, type Status } from './status';

export { list, state, type CommonOptions, type ContainerState, type Status } from './status';
import {
  claimId, DEFAULT_ROOT, execFifoPath, isAlive, lockContainer, NotFoundError, processStartTime, processStartTimeAsync, readState,
  removeContainerDir, writeState, type StoredState,
} from './state';

// Every command is a fresh process: load the heavy parts (cgroup drivers, planner, seccomp compiler,
// bootstrap) only in the commands that use them, so `state` and `list` start fast. Each is resolved once:
// require() of a loaded module still resolves its path, which a program starting many containers feels.
/* eslint-disable @typescript-eslint/no-require-imports */
function lazy<T>(load: () => T): () => T {
  let m: T | undefined;
  return () => (m ??= load());
}
const cgroupsModule = lazy(() => require('../cgroups') as typeof Cgroups);
const cgroups = new Proxy({} as typeof Cgroups, { get: (_, k) => (cgroupsModule() as unknown as Record<string | symbol, unknown>)[k] });
const hooksModule = lazy(() => require('./host-hooks') as typeof import('./host-hooks'));
// no hooks (the usual case): the hook runner and node:child_process never load
const runHooks: typeof import('./host-hooks').runHooks = async (hooks, ...rest) => { if (hooks?.length) await hooksModule().runHooks(hooks, ...rest); };
const launcherModule = lazy(() => require('./launcher') as typeof import('./launcher'));
const launch: typeof import('./launcher').launch = (...a) => launcherModule().launch(...a);
const plans = lazy(() => require('./plan') as typeof import('./plan'));
const validation = lazy(() => require('./spec/validate') as typeof import('./spec/validate'));
const network = lazy(() => require('./network') as typeof import('./network'));
const seccompModule = lazy(() => require('./seccomp') as typeof import('./seccomp'));
const compileSeccomp: typeof import('./seccomp').compileSeccomp = (...a) => seccompModule().compileSeccomp(...a);
const deviceRulesModule = lazy(() => require('./device-rules') as typeof import('./device-rules'));
const cgroupValidation = lazy(() => require('../cgroups/validate') as typeof import('../cgroups/validate'));
const cgroupPathsModule = lazy(() => require('../cgroups/paths') as typeof import('../cgroups/paths'));
const hierarchyModule = lazy(() => require('../cgroups/hierarchy') as typeof import('../cgroups/hierarchy'));
// no mount namespace: the rootfs bind the bootstrap made in our own mount namespace goes with the container
const releaseRootfsBind = (s: { namespaces: NamespaceType[]; rootfs: string }): void => { if (!s.namespaces.includes('mount')) (require('./host-mounts') as typeof import('./host-mounts')).releaseRootfsBind(s.rootfs); };
/* eslint-enable @typescript-eslint/no-require-imports */

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
  net?: import('./network').NetOptions;
  /** start from an image of the OverlayFS store instead of a bundle's rootfs (`--image`) */
  image?: { dataRoot: string; name: string; args?: string[] };
  /** exec the program as soon as it is set up, without waiting for start() (what run() uses) */
  startNow?: boolean;
}

const seccompCache = new WeakMap<LinuxSeccomp, { filter: Buffer; flags: number }>();

function compiledSeccomp(profile: LinuxSeccomp | undefined): { filter: Buffer; flags: number } | null {
  if (!profile) return null;
  let c = seccompCache.get(profile);
  if (!c) {
    const compiled = compileSeccomp(profile);
    c = { filter: compiled.filter, flags: compiled.flags };
    seccompCache.set(profile, c);
  }
  return c;
}

/**
 * Parsed and validated configs by bundle, so a program starting many containers from one bundle parses
 * and validates its config.json once. The key is the file's identity and change times in nanoseconds: an
 * edited or replaced config.json gets a new key and is read again. Cached specs are shared: nothing below
 * mutates a spec (create copies it where it adds mounts).
 */
const bundleSpecs = new Map<string, { key: string; spec: Spec }>();

async function bundleSpec(bundle: string): Promise<Spec> {
  const st = await fsp.stat(path.join(bundle, 'config.json'), { bigint: true }).catch(() => undefined);
  if (!st) return loadSpec(bundle); // reports the missing file or directory
  const key = `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
  const hit = bundleSpecs.get(bundle);
  if (hit?.key === key) return hit.spec;
  const spec = await loadSpec(bundle);
  validation().validateSpec(spec);
  bundleSpecs.set(bundle, { key, spec });
  return spec;
}

export async function loadSpec(bundle: string): Promise<Spec> {
  const file = path.join(bundle, 'config.json');
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') throw new BerthError(`bundle ${bundle}: no config.json (${fs.existsSync(bundle) ? 'missing file' : 'no such directory'})`, { field: '--bundle' });
    throw e;
  }
  return validation().parseSpec(text, file);
}

async function writePidFile(file: string, pid: number): Promise<void> {
  // runc: decimal pid, no newline, atomically
  await writeFileAtomic(path.resolve(file), String(pid), 0o644);
}

/** The host id that a container id maps to (itself without mappings). */
function hostId(maps: { containerID: number; hostID: number; size: number }[] | undefined, id: number): number {
  for (const m of maps ?? []) if (id >= m.containerID && id < m.containerID + m.size) return m.hostID + id - m.containerID;
  return id;
}

async function writeIdMaps(pid: number, spec: Spec): Promise<void> {
  const fmt = (maps: { containerID: number; hostID: number; size: number }[] | undefined) =>
    (maps ?? []).map((m) => `${m.containerID} ${m.hostID} ${m.size}\n`).join('');
  await fsp.writeFile(`/proc/${pid}/uid_map`, fmt(spec.linux?.uidMappings));
  await fsp.writeFile(`/proc/${pid}/gid_map`, fmt(spec.linux?.gidMappings));
}

function connectConsoleSocket(file: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const s = (require('node:net') as typeof import('node:net')).connect(file);
    s.once('connect', () => resolve(s));
    s.once('error', (e) => reject(new BerthError(`cannot connect to console socket ${file}: ${e.message}`, { field: '--console-socket' })));
  });
}

function socketFd(s: net.Socket): number {
  return (s as unknown as { _handle: { fd: number } })._handle.fd;
}

function ociState(s: StoredState, status: Status | 'creating'): State {
  return { ociVersion: s.config.ociVersion, id: s.id, status, pid: s.pid, bundle: s.bundle, annotations: s.annotations };
}

/** Creates a container: everything set up, the process waiting on its exec fifo until start(). */
export async function create(opts: CreateOptions): Promise<ContainerState> {
  if (opts.image) {
    validation().validateContainerId(opts.id);
    return createFromImage(opts, opts.image);
  }
  return toContainerState(await createStored(opts), opts.startNow ? 'running' : 'created');
}

// Filesystems that take no block device as their source: no device cgroup rule can refuse mounting them.
const DEVICELESS_FS = new Set(['proc', 'sysfs', 'tmpfs', 'devpts', 'mqueue', 'cgroup', 'cgroup2', 'overlay', 'securityfs']);

/**
 * runc applies device rules once the mounts are done, so a config may mount a block device its rules deny.
 * When every mount is a bind or a device-less filesystem, applying them with the other limits changes
 * nothing the container can observe: the bootstrap's own mknod is always allowed (device-rules.ts), and
 * the container's program only runs after both. That saves the pause after mounts and a round of writes.
 */
function devicesAtCreate(spec: Spec): boolean {
  return (spec.mounts ?? []).every((m) => m.type === 'bind' || (m.options ?? []).some((o) => o === 'bind' || o === 'rbind') || DEVICELESS_FS.has(m.type ?? ''));
}

// lib/cgroups joins, creates and removes across hierarchies in parallel (each cgroup.procs write waits
// for an RCU grace period: nine at once cost well under one sequential).
const joinCgroups = (h: Cgroups.CgroupHandle, pid: number): Promise<void> => cgroups.addProcess(h, pid);
const destroyCgroups = (h: Cgroups.CgroupHandle): Promise<void> => cgroups.destroy(h);

async function createStored(opts: CreateOptions): Promise<StoredState> {
  const root = opts.root ?? DEFAULT_ROOT;
  validation().validateContainerId(opts.id);
  const bundle = path.resolve(opts.bundle);
  let spec: Spec;
  if (opts.spec) {
    spec = opts.spec;
    validation().validateSpec(spec);
  } else {
    spec = await bundleSpec(bundle); // validated once per version of config.json
  }
  const seccomp = compiledSeccomp(spec.linux?.seccomp);
  const networks = opts.net?.networks ?? [];
  if (networks.length && !(spec.linux?.namespaces ?? []).some((n) => n.type === 'network'))
    throw new ConfigError('--net', 'attaching networks needs a network namespace in linux.namespaces');
  const dir = await claimId(root, opts.id);
  let unlock: (() => void) | undefined;
  let cgroup: Cgroups.CgroupHandle | null = null;
  let cgroupMade: Promise<Cgroups.CgroupHandle> | undefined;
  let pid = 0;
  let consoleSock: net.Socket | undefined;
  let stored: StoredState | undefined;
  try {
    unlock = await lockContainer(root, opts.id);
    const resources = spec.linux?.resources;
    const { devices: _ownRules, ...limits } = resources ?? {};
    const deviceRules = deviceRulesModule().deviceRules(spec);
    if (resources) cgroupValidation().validateResources(resources, cgroups.detectLayout());
    const earlyDevices = Boolean(deviceRules?.length) && devicesAtCreate(spec);
    const lateDevices = deviceRules?.length && !earlyDevices ? deviceRules : undefined;
    // Where the cgroups will be (pure path arithmetic), so the plan's cgroup mounts need not wait for them.
    const cgroupPaths = cgroupPathsModule().resolvePaths(hierarchyModule().hierarchies(), spec.linux?.cgroupsPath, opts.id);
    // Made while the process is cloned and unshares its namespaces; it joins them once it reports its pid.
    cgroupMade = cgroups.createCgroup({
      cgroupsPath: spec.linux?.cgroupsPath, containerId: opts.id,
      resources: resources ? (earlyDevices ? { ...limits, devices: deviceRules } : limits) : undefined,
    });
    cgroupMade.catch(() => undefined); // awaited below; a failure before then must not go unhandled
    const fifo = opts.startNow ? null : execFifoPath(root, opts.id);
    if (fifo) {
      native().mknod(fifo, 0o010000 | 0o622, 0, 0);
      await fsp.chmod(fifo, 0o622); // mknod applied our umask
      // the container's root (maybe an unprivileged host uid in a user namespace) opens it for writing
      await fsp.chown(fifo, hostId(spec.linux?.uidMappings, 0), hostId(spec.linux?.gidMappings, 0));
    }
    if (spec.process!.terminal && !opts.consoleSocket && !opts.stdio) throw new ConfigError('process.terminal', 'a terminal needs --console-socket');
    if (opts.consoleSocket) consoleSock = await connectConsoleSocket(opts.consoleSocket);
    const hooks = spec.hooks ?? {};
    const pauseAfterMounts = Boolean(lateDevices || hooks.prestart?.length || hooks.createRuntime?.length || hooks.createContainer?.length || hooks.startContainer?.length);
    // the container's /etc/hosts and /etc/resolv.conf: bound now, filled once CNI has answered
    const launchSpec: Spec = networks.length ? { ...spec, mounts: [...(spec.mounts ?? []), ...(await etcMounts(dir))] } : spec;
    const plan = plans().buildCreatePlan(launchSpec, {
      bundle, execFifo: fifo, consoleSocketFd: consoleSock ? socketFd(consoleSock) : -1, preserveFds: opts.preserveFds,
      noPivot: opts.noPivot, stdio: opts.stdio, pauseAfterMounts, cgroupPaths, seccomp,
    });
    stored = {
      id: opts.id, bundle, rootfs: plan.rootfs!, pid: 0, pidStartTime: '', created: new Date().toISOString(),
      annotations: spec.annotations ?? {}, owner: '', cgroup: null, namespaces: (spec.linux?.namespaces ?? []).map((n) => n.type), config: spec,
    };
    const st = stored;
    // Without networks (their attachments go into the state) the state is written as soon as the pid is
    // known, alongside joining the cgroups: `state` then shows the container while it sets up, as runc does.
    let stateWritten: Promise<void> | undefined;
    const saveState = async (p: number, startTime?: string) => {
      st.pid = p;
      st.pidStartTime = startTime ?? (await processStartTimeAsync(p)) ?? '';
      await writeState(root, st);
    };
    const launched = await launch(plan, {
      onNeedMaps: (p) => writeIdMaps(p, spec),
      onPid: async (p, startTime) => {
        pid = p;
        cgroup = st.cgroup = await cgroupMade!;
        if (JSON.stringify(cgroup.paths) !== JSON.stringify(cgroupPaths)) throw new BerthError(`cgroup paths changed under container ${opts.id}`);
        if (!networks.length) {
          stateWritten = saveState(p, startTime);
          stateWritten.catch(() => undefined); // awaited once launched
        }
        await joinCgroups(cgroup, p);
        if (networks.length) {
          const net = network();
          const attached = await net.attachNetworks(opts.id, `/proc/${p}/ns/net`, opts.net!);
          st.networks = attached.attachments;
          await net.writeEtcFiles(dir, net.etcFiles(spec.hostname ?? opts.id, attached.results));
        }
      },
      onMounted: async (p) => {
        if (lateDevices) await cgroups.updateResources(cgroup!, { devices: lateDevices });
        const state = ociState({ ...st, pid: p }, 'creating');
        await runHooks(hooks.prestart, state, 'prestart');
        await runHooks(hooks.createRuntime, state, 'createRuntime');
        return JSON.stringify(ociState({ ...st, pid: p }, 'created'));
      },
    });
    pid = launched.pid;
    await (stateWritten ?? saveState(pid));
    if (opts.pidFile) await writePidFile(opts.pidFile, pid);
    if (opts.startNow) await runHooks(spec.hooks?.poststart, ociState(st, 'running'), 'poststart');
    return st;
  } catch (e) {
    if (pid > 0) {
      try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    }
    if (stored?.networks?.length) await network().detachNetworks(opts.id, `/proc/${pid}/ns/net`, stored.networks).catch(() => undefined);
    if (stored) releaseRootfsBind(stored);
    const made = cgroup ?? (cgroupMade ? await cgroupMade.catch(() => null) : null);
    if (made) await destroyCgroups(made).catch(() => undefined);
    await removeContainerDir(root, opts.id);
    throw e;
  } finally {
    consoleSock?.destroy();
    unlock?.();
  }
}

async function etcMounts(dir: string): Promise<NonNullable<Spec['mounts']>> {
  await fsp.writeFile(path.join(dir, 'hosts'), '');
  await fsp.writeFile(path.join(dir, 'resolv.conf'), '');
  return [
    { destination: '/etc/hosts', type: 'bind', source: path.join(dir, 'hosts'), options: ['rbind', 'rprivate'] },
    { destination: '/etc/resolv.conf', type: 'bind', source: path.join(dir, 'resolv.conf'), options: ['rbind', 'rprivate'] },
  ];
}

const overlay = () => require('../overlayfs') as typeof import('../overlayfs');

/** `--image`: an overlay root from the store, a config from the image, then the usual create. */
async function createFromImage(opts: CreateOptions, image: NonNullable<CreateOptions['image']>): Promise<ContainerState> {
  const root = opts.root ?? DEFAULT_ROOT;
  if (fs.existsSync(path.join(root, opts.id))) throw new BerthError(`container with id exists: ${opts.id}`);
  const { rootfs, config } = await overlay().prepareRootfs(image.dataRoot, image.name, opts.id);
  try {
    const spec = opts.spec ?? (require('./image-spec') as typeof import('./image-spec')).specFromImage(config, rootfs, { args: image.args, hostname: opts.id });
    const st = await create({ ...opts, image: undefined, spec, bundle: path.dirname(rootfs) });
    const stored = await readState(root, opts.id);
    stored.image = { dataRoot: image.dataRoot, name: image.name };
    await writeState(root, stored);
    return st;
  } catch (e) {
    await overlay().releaseRootfs(image.dataRoot, opts.id).catch(() => undefined);
    throw e;
  }
}

/** Lets a created container's process exec its program. */
export async function start(id: string, opts: CommonOptions = {}): Promise<void> {
  const root = opts.root ?? DEFAULT_ROOT;
  const unlock = await lockContainer(root, id);
  try {
    const s = await readState(root, id);
    const status = await statusOf(root, s);
    if (status === 'stopped') throw new BerthError('cannot start a container that has stopped');
    if (status !== 'created') throw new BerthError('cannot start an already running container');
    const fifo = execFifoPath(root, id);
    await releaseExecFifo(fifo, s);
    await fsp.rm(fifo, { force: true });
    await runHooks(s.config.hooks?.poststart, ociState(s, 'running'), 'poststart');
  } finally {
    unlock();
  }
}

/**
 * Opens the fifo for reading without blocking and waits for the process's one byte. Until the process
 * has opened its end, reads see end-of-file, so EOF only means "stopped" once the process is gone.
 */
async function releaseExecFifo(fifo: string, s: StoredState): Promise<void> {
  const fd = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  try {
    const buf = Buffer.alloc(1);
    for (let delay = 0; ; delay = Math.min(delay + 1, 10)) {
      try {
        if (fs.readSync(fd, buf, 0, 1, null) === 1) return;
        if (!isAlive(s)) throw new BerthError('cannot start a container that has stopped');
      } catch (e) {
        if (errnoCode(e) !== 'EAGAIN') throw e;
      }
      await new Promise((r) => setTimeout(r, delay));
    }
  } finally {
    fs.closeSync(fd);
  }
}

export async function kill(id: string, signal: number, opts: CommonOptions & { all?: boolean } = {}): Promise<void> {
  const root = opts.root ?? DEFAULT_ROOT;
  const s = await readState(root, id);
  const status = await statusOf(root, s);
  if (status === 'stopped' && !opts.all) throw new BerthError('container not running');
  if (opts.all && s.cgroup) {
    await cgroups.killAll(s.cgroup, signal);
    return;
  }
  signalProcess(s, signal);
}

function signalProcess(s: StoredState, signal: number): void {
  const n = native();
  let fd: number;
  try {
    fd = n.pidfdOpen(s.pid);
  } catch (e) {
    if (errnoCode(e) === 'ESRCH') throw new BerthError('container not running');
    throw e;
  }
  try {
    // the pidfd pins this exact process: check it is still ours before signalling
    if (processStartTime(s.pid) !== s.pidStartTime) throw new BerthError('container not running');
    n.pidfdSendSignal(fd, signal);
  } finally {
    fs.closeSync(fd);
  }
}

/** Resolves with the exit of the container's process: our child (library) or any process (CLI). */
export function wait(pid: number): Promise<{ code: number; signal: number }> {
  return new Promise((resolve, reject) => {
    try {
      native().waitPid(pid, (code, signal) => resolve({ code, signal }));
    } catch (e) {
      if (errnoCode(e) === 'ESRCH') resolve({ code: -1, signal: 0 });
      else reject(e);
    }
  });
}

async function waitGone(s: StoredState, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (let delay = 1; isAlive(s); delay = Math.min(delay * 2, 50)) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, delay));
  }
  return true;
}

export interface DeleteOptions extends CommonOptions {
  force?: boolean;
}

export async function del(id: string, opts: DeleteOptions = {}): Promise<void> {
  const root = opts.root ?? DEFAULT_ROOT;
  let unlock: () => void;
  try {
    unlock = await lockContainer(root, id);
  } catch (e) {
    if (e instanceof BerthError && opts.force && /does not exist/.test(e.message)) return;
    throw e;
  }
  try {
    let s: StoredState;
    try {
      s = await readState(root, id);
    } catch (e) {
      // a directory without state: a create that died half-way. --force clears it.
      if (opts.force) { await removeContainerDir(root, id); return; }
      throw e;
    }
    const status = await statusOf(root, s);
    if (status === 'running' || status === 'paused') {
      if (!opts.force) throw new BerthError(`cannot delete container ${id} that is not stopped: ${status}`);
    }
    if (status !== 'stopped') {
      if (s.cgroup) {
        if (status === 'paused') await cgroups.thaw(s.cgroup).catch(() => undefined);
        await cgroups.killAll(s.cgroup, 9).catch(() => undefined);
      }
      try { signalProcess(s, 9); } catch { /* already gone */ }
      if (!(await waitGone(s, 10_000))) throw new BerthError(`container ${id}: process ${s.pid} did not exit after SIGKILL`);
    }
    await removeStopped(root, s);
  } finally {
    unlock();
  }
}

/** The second half of delete, once the container's processes are gone; the caller holds the lock. */
async function removeStopped(root: string, s: StoredState): Promise<void> {
  if (s.networks?.length) await network().detachNetworks(s.id, `/proc/${s.pid}/ns/net`, s.networks);
  if (s.cgroup) await destroyCgroups(s.cgroup);
  releaseRootfsBind(s);
  if (s.image) await overlay().releaseRootfs(s.image.dataRoot, s.id);
  await removeContainerDir(root, s.id);
  await runHooks(s.config.hooks?.poststop, ociState(s, 'stopped'), 'poststop').catch(() => undefined);
}

export async function pause(id: string, opts: CommonOptions = {}): Promise<void> {
  const root = opts.root ?? DEFAULT_ROOT;
  const s = await readState(root, id);
  const status = await statusOf(root, s);
  if (status !== 'running' && status !== 'created') throw new BerthError(`container not running`);
  if (!s.cgroup) throw new BerthError('container has no cgroup to freeze');
  await cgroups.freeze(s.cgroup);
}

export async function resume(id: string, opts: CommonOptions = {}): Promise<void> {
  const root = opts.root ?? DEFAULT_ROOT;
  const s = await readState(root, id);
  const status = await statusOf(root, s);
  if (status !== 'paused') throw new BerthError('container not paused');
  await cgroups.thaw(s.cgroup!);
}

export async function pids(id: string, opts: CommonOptions = {}): Promise<number[]> {
  const s = await readState(opts.root ?? DEFAULT_ROOT, id);
  if (!s.cgroup) return isAlive(s) ? [s.pid] : [];
  return cgroups.listPids(s.cgroup);
}

export async function stored(id: string, opts: CommonOptions = {}): Promise<StoredState> {
  return readState(opts.root ?? DEFAULT_ROOT, id);
}

export interface ExecOptions extends CommonOptions {
  id: string;
  process: Process;
  consoleSocket?: string;
  pidFile?: string;
  preserveFds?: number;
  stdio?: [number, number, number];
}

/** Starts a process inside a running container's namespaces and cgroups; returns its pid. */
export async function exec(opts: ExecOptions): Promise<number> {
  const root = opts.root ?? DEFAULT_ROOT;
  const s = await readState(root, opts.id);
  const status = await statusOf(root, s);
  if (status !== 'running' && status !== 'created') throw new BerthError(`cannot exec in a ${status} container`);
  if (opts.process.terminal && !opts.consoleSocket && !opts.stdio) throw new ConfigError('process.terminal', 'a terminal needs --console-socket');
  const consoleSock = opts.consoleSocket ? await connectConsoleSocket(opts.consoleSocket) : undefined;
  try {
    const joinable: NamespaceType[] = s.namespaces.filter((t) => fs.existsSync(`/proc/${s.pid}/ns/${t === 'network' ? 'net' : t === 'mount' ? 'mnt' : t}`));
    const plan = plans().buildExecPlan({
      pid: s.pid, namespaces: joinable, process: opts.process, consoleSocketFd: consoleSock ? socketFd(consoleSock) : -1,
      preserveFds: opts.preserveFds, stdio: opts.stdio, seccomp: compiledSeccomp(s.config.linux?.seccomp),
      setsid: opts.process.terminal,
    });
    const launched = await launch(plan, {
      onPid: async (p) => { if (s.cgroup) await joinCgroups(s.cgroup, p); },
    });
    if (opts.pidFile) await writePidFile(opts.pidFile, launched.pid);
    return launched.pid;
  } finally {
    consoleSock?.destroy();
  }
}

export interface RunOptions extends CreateOptions {
  /** keep the container's state after it exits (runc run --keep) */
  keep?: boolean;
  /** called once the program runs, e.g. to forward signals to it */
  onStarted?: (pid: number) => void;
}

/**
 * create + start + wait + delete: resolves with the exit code (128+signal when killed). The process
 * execs as soon as it is set up (no exec fifo round trip), and is reaped here: it is our child.
 */
export async function run(opts: RunOptions): Promise<number> {
  // an image container's state gains its image after create: that path deletes through del()
  if (opts.image) {
    const st = await create({ ...opts, startNow: true });
    const status = await waitStarted(st.pid, opts);
    if (!opts.keep) await del(opts.id, { root: opts.root, force: true });
    return status;
  }
  const root = opts.root ?? DEFAULT_ROOT;
  const st = await createStored({ ...opts, startNow: true });
  const status = await waitStarted(st.pid, opts);
  if (!opts.keep) await removeExited(root, st);
  return status;
}

async function waitStarted(pid: number, opts: RunOptions): Promise<number> {
  const exited = wait(pid);
  opts.onStarted?.(pid);
  const { code, signal } = await exited;
  return signal ? 128 + signal : code;
}

/**
 * delete --force for a container whose init we reaped ourselves: it is stopped, and the state we wrote
 * is in memory, so there is nothing to read back or to kill. A `delete` from elsewhere may have won.
 */
async function removeExited(root: string, s: StoredState): Promise<void> {
  let unlock: () => void;
  try {
    unlock = await lockContainer(root, s.id);
  } catch (e) {
    if (e instanceof NotFoundError) return;
    throw e;
  }
  try {
    // deleted while we waited for the lock
    if (!(await fsp.access(path.join(root, s.id, 'state.json')).then(() => true, () => false))) return;
    await removeStopped(root, s);
  } finally {
    unlock();
  }
}
