// A recording fake of the runtime's kernel seam (lib/runtime/sys.ts): every call is recorded in order,
// what the calls make (state directories, cgroups, processes, image roots, network attachments, files) is
// modelled so that a test can ask what is left, and any call can be made to fail (youki's test recorder).
import * as path from 'node:path';
import type { CgroupHandle } from '../../lib/cgroups';
import type { Attachment } from '../../lib/runtime/network';
import { CLONE } from '../../lib/sys/native';
import { BerthError } from '../../lib/util/errors';
import { NotFoundError, type StoredState } from '../../lib/runtime/state';
import type { Status } from '../../lib/runtime/status';
import type { CgroupSys, Intent, Sys } from '../../lib/runtime/sys';

export interface Call {
  op: string;
  args: unknown[];
}

export class InjectedFailure extends Error {
  constructor(op: string) {
    super(`injected failure: ${op}`);
  }
}

export class FakeSys implements Sys {
  readonly calls: Call[] = [];
  readonly dirs = new Set<string>();
  readonly intents = new Map<string, Intent>();
  readonly states = new Map<string, StoredState>();
  /** files inside state directories (exec.fifo, hosts, resolv.conf), removed with their directory */
  readonly files = new Set<string>();
  readonly cgroupDirs = new Set<string>();
  /** pid -> the cgroup directories it joined */
  readonly processes = new Map<number, string[]>();
  readonly imageRoots = new Set<string>();
  readonly attachments = new Set<string>();
  readonly locks = new Set<string>();
  /** connected console sockets, closed once the bootstrap has its end */
  readonly consoles = new Set<number>();
  /** pid files: the caller's, never removed by the runtime (as with runc) */
  readonly pidFiles = new Set<string>();
  /** rootfs binds in our mount namespace, made by the bootstrap of a container without a mount namespace */
  readonly rootfsBinds = new Set<string>();
  /** files of container trees readInRoot finds, by `${root}:${path}` (nothing else is read) */
  readonly filesInRoot = new Map<string, string>();
  private readonly exits = new Map<number, (code: number, signal: number) => void>();
  private nextPid = 1000;
  private failing?: { op: string; nth: number; error?: Error };
  private crashing?: { op: string; nth: number };
  private crashed = false;
  private generation = 0;
  private seen = new Map<string, number>();

  /** Makes the nth call (1-based) of `op` throw `error`, by default an InjectedFailure. */
  failOn(op: string, nth = 1, error?: Error): this {
    this.failing = { op, nth, error };
    return this;
  }

  /**
   * The runtime is killed (kill -9) when it makes the nth call of `op`: that call and every later one of
   * the dead caller never return, its locks and sockets go, and a process it launched exits unless it had joined its
   * cgroups (the bootstrap stops when its parent's sync socket closes). restart() is the next command.
   */
  crashOn(op: string, nth = 1): this {
    this.crashing = { op, nth };
    return this;
  }

  /** Whether the crash happened (the op was reached). */
  get hasCrashed(): boolean {
    return this.crashed;
  }

  /** A new command after the crash: calls act again; those of the dead command stay hung. */
  restart(): void {
    this.crashed = false;
    this.crashing = undefined;
    this.generation++;
  }

  private crash(): void {
    this.crashed = true;
    // the kernel closes a dead process's descriptors: its locks and sockets go
    this.locks.clear();
    this.consoles.clear();
    for (const [pid, joined] of this.processes) if (!joined.length) this.processes.delete(pid);
  }

  /** Names of the calls recorded from index `from` on. */
  opsSince(from: number): string[] {
    return this.calls.slice(from).map((c) => c.op);
  }

  /** Everything the calls made that is still there. */
  leftovers(): string[] {
    return [
      ...[...this.dirs].map((d) => `dir ${d}`), ...[...this.files].map((f) => `file ${f}`),
      ...[...this.cgroupDirs].map((c) => `cgroup ${c}`), ...[...this.processes.keys()].map((p) => `process ${p}`),
      ...[...this.imageRoots].map((m) => `image root ${m}`), ...[...this.attachments].map((a) => `network ${a}`),
      ...[...this.locks].map((l) => `lock ${l}`), ...[...this.consoles].map((c) => `console socket fd ${c}`),
      ...[...this.rootfsBinds].map((b) => `rootfs bind ${b}`),
    ];
  }

  /** The process exits (as its parent would see it). */
  exit(pid: number, code = 0): void {
    this.processes.delete(pid);
    this.exits.get(pid)?.(code, 0);
  }

  /** false when the caller is dead (crashed): the call must not act */
  private record(op: string, ...args: unknown[]): boolean {
    if (this.crashed) return false;
    this.calls.push({ op, args });
    const n = (this.seen.get(op) ?? 0) + 1;
    this.seen.set(op, n);
    if (this.crashing?.op === op && this.crashing.nth === n) {
      this.crash();
      return false;
    }
    if (this.failing?.op === op && this.failing.nth === n) throw this.failing.error ?? new InjectedFailure(op);
    return true;
  }

  private async call<T>(op: string, args: unknown[], act: () => T | Promise<T>): Promise<T> {
    const generation = this.generation;
    await Promise.resolve(); // asynchronous like the real thing
    if (generation !== this.generation || !this.record(op, ...args)) return new Promise<T>(() => undefined);
    return act();
  }

  private dir(root: string, id: string): string {
    return path.join(root, id);
  }

  claim = (root: string, intent: Intent) => this.call('claim', [intent.id], () => {
    const dir = this.dir(root, intent.id);
    if (this.dirs.has(dir)) throw new BerthError(`container with id exists: ${intent.id}`);
    this.dirs.add(dir);
    this.intents.set(dir, structuredClone(intent));
    return dir;
  });

  writeIntent = (root: string, intent: Intent) => this.call('writeIntent', [intent.id], () => {
    this.needDir(root, intent.id);
    this.intents.set(this.dir(root, intent.id), structuredClone(intent));
  });

  readIntent = (root: string, id: string) => this.call('readIntent', [id], () => structuredClone(this.intents.get(this.dir(root, id))));

  readState = (root: string, id: string) => this.call('readState', [id], () => {
    const s = this.states.get(this.dir(root, id));
    if (!s) throw new NotFoundError(id);
    return structuredClone(s);
  });

  hasState = (root: string, id: string) => this.call('hasState', [id], () => this.states.has(this.dir(root, id)));

  writeState = (root: string, s: StoredState) => this.call('writeState', [s.id], () => {
    this.needDir(root, s.id);
    this.states.set(this.dir(root, s.id), structuredClone(s));
  });

  removeContainerDir = (root: string, id: string) => this.call('removeContainerDir', [id], () => {
    const dir = this.dir(root, id);
    this.dirs.delete(dir);
    this.intents.delete(dir);
    this.states.delete(dir);
    for (const f of this.files) if (f.startsWith(`${dir}/`)) this.files.delete(f);
  });

  lock = (root: string, id: string) => this.call('lock', [id], () => {
    if (!this.dirs.has(this.dir(root, id))) throw new NotFoundError(id);
    this.locks.add(id);
    return () => { this.locks.delete(id); };
  });

  status = (root: string, s: StoredState) => this.call<Status>('status', [s.id], () => {
    if (!this.processes.has(s.pid)) return 'stopped';
    return this.files.has(path.join(this.dir(root, s.id), 'exec.fifo')) ? 'created' : 'running';
  });

  makeExecFifo = (file: string, uid: number, gid: number) => this.call('makeExecFifo', [file, uid, gid], () => { this.files.add(file); });
  removeFile = (file: string) => this.call('removeFile', [file], () => { this.files.delete(file); });
  releaseExecFifo = (file: string) => this.call('releaseExecFifo', [file], () => undefined);

  makeEtcFiles = (dir: string) => this.call('makeEtcFiles', [dir], () => {
    const files = { hosts: path.join(dir, 'hosts'), resolv: path.join(dir, 'resolv.conf') };
    this.files.add(files.hosts).add(files.resolv);
    return files;
  });

  writeEtcFiles = (dir: string) => this.call('writeEtcFiles', [dir], () => undefined);
  writePidFile = (file: string, pid: number) => this.call('writePidFile', [file, pid], () => { this.pidFiles.add(file); });

  launch: Sys['launch'] = (plan, callbacks) => this.call('launch', [plan], async () => {
    const pid = this.nextPid++;
    this.processes.set(pid, []);
    // the bootstrap's first mount step; it stays when a later step fails (the caller's undo removes it)
    const ownMountns = (plan.cloneFlags & CLONE.NEWNS) !== 0 || plan.join.some((j) => j.type === CLONE.NEWNS);
    if (plan.rootfs && !ownMountns) this.rootfsBinds.add(plan.rootfs);
    try {
      await callbacks.onPid?.(pid);
      if (plan.pauseAfterMounts) await callbacks.onMounted?.(pid);
    } catch (e) {
      this.processes.delete(pid); // launch kills a process whose setup failed
      throw e;
    }
    return { pid };
  });

  writeIdMaps = (pid: number) => this.call('writeIdMaps', [pid], () => undefined);
  startTime = (pid: number) => this.call('startTime', [pid], () => (this.processes.has(pid) ? '1' : undefined));
  isAlive = (pid: number) => this.processes.has(pid);

  signal = (pid: number, _startTime: string, signal: number): boolean => {
    if (!this.record('signal', pid, signal)) return false;
    if (!this.processes.has(pid)) return false;
    if (signal === 9) this.exit(pid, 137);
    return true;
  };

  killLaunched = (pid: number): void => {
    if (this.record('killLaunched', pid)) this.processes.delete(pid);
  };

  exitWithin = (_pid: number, ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

  waitPid = (pid: number, onExit: (code: number, signal: number) => void): void => {
    if (this.record('waitPid', pid)) this.exits.set(pid, onExit);
  };

  runHooks: Sys['runHooks'] = (hooks, _state, field) => this.call('runHooks', [field, hooks?.length ?? 0], () => undefined);

  namespacesOf = (pid: number, types: import('../../lib/runtime/spec/types').NamespaceType[]) => (this.processes.has(pid) ? types : []);

  connectConsole = (file: string) => this.call('connectConsole', [file], () => {
    const fd = 100 + this.consoles.size;
    this.consoles.add(fd);
    return { fd, close: () => { this.consoles.delete(fd); } };
  });

  loopbackUp = (netns: string) => this.call('loopbackUp', [netns], () => undefined);

  releaseRootfsBind = (rootfs: string) => this.call('releaseRootfsBind', [rootfs], () => { this.rootfsBinds.delete(rootfs); });

  readInRoot: Sys['readInRoot'] = (file) => this.filesInRoot.get(`${file.root}:${file.path}`);

  private cgroupCall<T>(op: string, args: unknown[], act: () => T): Promise<T> {
    return this.call(`cgroups.${op}`, args, act);
  }

  cgroups: CgroupSys = {
    plan: (cgroupsPath, id) => ({
      layout: 'v1',
      paths: Object.fromEntries(['memory', 'pids', 'unified'].map((c) => [c, path.posix.join('/fake/cgroup', c, cgroupsPath ?? `berth/${id}`)])),
    }),
    layout: () => 'v1',
    validate: () => undefined,
    create: (spec) => this.cgroupCall('create', [spec.containerId], () => {
      const h = this.cgroups.plan(spec.cgroupsPath, spec.containerId);
      for (const d of Object.values(h.paths)) this.cgroupDirs.add(d);
      return h;
    }),
    join: (h, pid) => this.cgroupCall('join', [pid], () => { this.processes.set(pid, Object.values(h.paths)); }),
    // the fake's processes are placed by join(): none joins by itself
    selfJoin: () => ({ tasks: [], v2: null }),
    update: () => this.cgroupCall('update', [], () => undefined),
    killAll: (h, signal) => this.cgroupCall('killAll', [signal], () => {
      const dirs = new Set(Object.values(h.paths));
      if (![...dirs].some((d) => this.cgroupDirs.has(d))) throw Object.assign(new Error('ENOENT: cgroup.kill'), { code: 'ENOENT' });
      for (const [pid, joined] of this.processes) if (signal === 9 && joined.some((d) => dirs.has(d))) this.exit(pid, 137);
    }),
    listPids: (h) => this.cgroupCall('listPids', [], () => [...this.processes].filter(([, j]) => j.some((d) => Object.values(h.paths).includes(d))).map(([p]) => p)),
    freeze: () => this.cgroupCall('freeze', [], () => undefined),
    thaw: () => this.cgroupCall('thaw', [], () => undefined),
    destroy: (h: CgroupHandle) => this.cgroupCall('destroy', [], () => {
      for (const d of Object.values(h.paths)) {
        if ([...this.processes.values()].some((j) => j.includes(d))) throw new BerthError(`removing cgroup ${d}: EBUSY`);
      }
      for (const d of Object.values(h.paths)) this.cgroupDirs.delete(d);
    }),
  };

  prepareRootfs = (dataRoot: string, image: string, id: string, owner: string) => this.call('prepareRootfs', [image, id, owner], () => {
    const dir = path.join(dataRoot, 'containers', id);
    this.imageRoots.add(dir);
    return { rootfs: path.join(dir, 'rootfs'), config: { Cmd: ['/bin/sh'] } };
  });

  releaseRootfs = (dataRoot: string, id: string, owner: string) => this.call('releaseRootfs', [id, owner], () => {
    this.imageRoots.delete(path.join(dataRoot, 'containers', id));
  });

  planNetworks: Sys['planNetworks'] = (opts) =>
    opts.networks.map((network, i): Attachment => ({ network, confDir: opts.confDir ?? '/etc/cni/net.d', ifname: `eth${i}`, cniPath: opts.cniPath ?? [] }));

  attachNetworks: Sys['attachNetworks'] = (id, netns, opts) => this.call('attachNetworks', [id, netns], () => {
    const attachments = this.planNetworks(opts);
    for (const a of attachments) this.attachments.add(`${id}/${a.ifname}`);
    return { attachments, results: attachments.map(() => ({ cniVersion: '1.1.0' })) };
  });

  detachNetworks = (id: string, netns: string, attachments: Attachment[]) => this.call('detachNetworks', [id, netns], () => {
    for (const a of attachments) this.attachments.delete(`${id}/${a.ifname}`);
  });

  private needDir(root: string, id: string): void {
    if (!this.dirs.has(this.dir(root, id))) throw Object.assign(new Error(`ENOENT: ${this.dir(root, id)}`), { code: 'ENOENT' });
  }
}
