// What the lifecycle (lib/runtime/lifecycle/) asks of the kernel and of the host, as one interface passed
// in: the real implementation (real-sys.ts) goes through the addon, lib/cgroups, the overlay store and
// the CNI plugins; a recording fake (test/helpers/fake-sys.ts) lets create's rollback and delete's cleanup
// be tested step by step without root (youki's Syscall trait and its test recorder).
import type { CgroupHandle, CgroupSpec } from '../cgroups';
import type { ImageConfig } from '../overlayfs';
import type { LaunchCallbacks, Launched } from './launcher';
import type { InRoot } from './home';
import type { LaunchPlan } from './launch-plan';
import type { Attachment, NetOptions } from './network';
import type { Hook, LinuxResources, NamespaceType, State } from './spec/types';
import type { Intent, StoredState } from './state';
import type { Status } from './status';

export type { Intent } from './state';

export interface CgroupSys {
  /** where a container's cgroups go, per hierarchy (pure path arithmetic over the host's mounts) */
  plan(cgroupsPath: string | undefined, id: string): CgroupHandle;
  layout(): CgroupHandle['layout'];
  validate(resources: LinuxResources, layout: CgroupHandle['layout']): void;
  create(spec: CgroupSpec): Promise<CgroupHandle>;
  join(h: CgroupHandle, pid: number): Promise<void>;
  /** what a freshly cloned process writes to join the cgroups itself (launch-plan.ts cgroupTasks/cgroupV2) */
  selfJoin(h: CgroupHandle): { tasks: string[]; v2: string | null };
  update(h: CgroupHandle, r: LinuxResources): Promise<void>;
  /** every process of the cgroups, signalled; SIGKILL uses cgroup.kill where the kernel has it */
  killAll(h: CgroupHandle, signal: number): Promise<void>;
  listPids(h: CgroupHandle): Promise<number[]>;
  freeze(h: CgroupHandle): Promise<void>;
  thaw(h: CgroupHandle): Promise<void>;
  /** idempotent: a missing directory is already destroyed */
  destroy(h: CgroupHandle): Promise<void>;
}

export interface Sys {
  // the state store under --root
  /** makes <root>/<id> (fails if the id is taken) holding the intent, before anything else exists */
  claim(root: string, intent: Intent): Promise<string>;
  writeIntent(root: string, intent: Intent): Promise<void>;
  /** undefined when the directory holds no intent (a create from before intents, or killed in claim) */
  readIntent(root: string, id: string): Promise<Intent | undefined>;
  readState(root: string, id: string): Promise<StoredState>;
  hasState(root: string, id: string): Promise<boolean>;
  writeState(root: string, s: StoredState): Promise<void>;
  removeContainerDir(root: string, id: string): Promise<void>;
  /** the release: `removed` once the container's directory is gone (its last close may then come later) */
  lock(root: string, id: string): Promise<(removed?: boolean) => void>;
  status(root: string, s: StoredState): Promise<Status>;
  /** the fifo a created process waits on, owned by the container's root */
  makeExecFifo(file: string, uid: number, gid: number): Promise<void>;
  removeFile(file: string): Promise<void>;
  /** waits for the created process's byte on its exec fifo: it runs its program now */
  releaseExecFifo(file: string, alive: () => boolean): Promise<void>;
  /** empty /etc/hosts and /etc/resolv.conf in the container's directory, bound into it */
  makeEtcFiles(dir: string): Promise<{ hosts: string; resolv: string }>;
  writeEtcFiles(dir: string, files: { hosts: string; resolv: string }): Promise<void>;
  writePidFile(file: string, pid: number): Promise<void>;

  // processes
  launch(plan: LaunchPlan, callbacks: LaunchCallbacks): Promise<Launched>;
  writeIdMaps(pid: number, uidMap: string, gidMap: string): Promise<void>;
  startTime(pid: number): Promise<string | undefined>;
  /** the process is ours: alive with the start time we recorded */
  isAlive(pid: number, startTime: string): boolean;
  /** a signal through a pidfd, checked against the start time first; false when the process is gone */
  signal(pid: number, startTime: string, signal: number): boolean;
  /** SIGKILL to a process we just launched (no start time to check yet) */
  killLaunched(pid: number): void;
  waitPid(pid: number, onExit: (code: number, signal: number) => void): void;
  /** resolves when process `pid` (any, not only our child) has exited, or after `ms` */
  exitWithin(pid: number, ms: number): Promise<void>;
  runHooks(hooks: Hook[] | undefined, state: State, field: string): Promise<void>;
  /** the namespaces of `types` that process `pid` still has (what an exec can join) */
  namespacesOf(pid: number, types: NamespaceType[]): NamespaceType[];
  /** --console-socket, connected: the bootstrap sends the terminal's master over `fd` */
  connectConsole(file: string): Promise<{ fd: number; close(): void }>;
  /**
   * idempotent: detaches the bind a container without a mount namespace of its own made of its rootfs in
   * our mount namespace (host-mounts.ts), with every mount below it
   */
  releaseRootfsBind(rootfs: string): Promise<void>;
  /** a file of the container's tree read as if `root` were "/" (the passwd HOME comes from); undefined when it cannot be */
  readInRoot(file: InRoot): string | undefined;
  /** brings `lo` up in the network namespace at `netns` (--network none, pods) */
  loopbackUp(netns: string): Promise<void>;

  cgroups: CgroupSys;

  // the image root (lib/overlayfs)
  prepareRootfs(dataRoot: string, image: string, id: string, owner: string): Promise<{ rootfs: string; config: ImageConfig }>;
  /**
   * idempotent: unmounts and removes containers/<id> of the store when it exists and is `owner`'s (the
   * container's state directory, recorded by prepareRootfs), or when a prepare died before recording it
   */
  releaseRootfs(dataRoot: string, id: string, owner: string): Promise<void>;

  // CNI
  attachNetworks(id: string, netns: string, opts: NetOptions): Promise<{ attachments: Attachment[]; results: import('../cni/types').Result[] }>;
  detachNetworks(id: string, netns: string, attachments: Attachment[]): Promise<void>;
  /** the attachments attachNetworks will make (pure: names and paths) */
  planNetworks(opts: NetOptions): Attachment[];
}
