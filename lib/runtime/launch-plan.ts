// The launch plan: plain data that the C bootstrap (native/src/bootstrap*.c) executes step by step.
// It crosses to C as bytes: plan-codec.ts encodes every field below, native/src/plan_decode.c decodes them.

export interface MountStep {
  source: string | null;
  target: string;           // inside the container
  fstype: string | null;
  flags: number;            // MS_* without propagation
  propagation: number[];
  data: string | null;
  bind: boolean;
  file: boolean;            // bind of a non-directory: the mountpoint is a file
  attrSet: bigint;
  attrClr: bigint;
  index: number;            // mounts[index] in config.json, -1 for mounts berth adds
}

export interface DeviceStep {
  path: string;
  mode: number;             // S_IF* | permissions
  major: number;
  minor: number;
  uid: number;
  gid: number;
  bind: boolean;            // bind the host's node (user namespaces cannot mknod)
  index: number;            // linux.devices[index], -1 for the default set
}

export interface HookStep {
  path: string;
  args: string[];
  env: string[];
  timeout: number;
  index: number;
}

export interface RlimitStep {
  resource: number;
  soft: bigint;
  hard: bigint;
}

export interface CapabilitySets {
  bounding: bigint;
  effective: bigint;
  inheritable: bigint;
  permitted: bigint;
  ambient: bigint;
}

export interface LaunchPlan {
  cloneFlags: number;
  newUserns: boolean;
  join: { type: number; path: string }[];
  timeOffsets: string | null;
  syncFd?: number;

  rootfs: string | null;    // null: exec into a running container
  rootPropagation: number;
  noPivot: boolean;
  readonlyRoot: boolean;
  pauseAfterMounts: boolean;
  mounts: MountStep[];
  devices: DeviceStep[];
  defaultLinks: boolean;
  maskedPaths: string[];
  readonlyPaths: string[];
  hostname: string | null;
  domainname: string | null;
  sysctlPaths: string[];
  sysctlValues: string[];

  args: string[];
  env: string[];
  cwd: string;
  uid: number;
  gid: number;
  additionalGids: number[];
  setGroups: boolean;
  umask: number;            // -1: unchanged
  rlimits: RlimitStep[];
  capabilities: CapabilitySets | null;
  noNewPrivileges: boolean;
  oomScoreAdj: number | null;
  personality: number;      // -1: unchanged
  seccomp: Buffer | null;
  seccompFlags: number;
  terminal: boolean;
  consoleSocketFd: number;
  consoleRows: number;
  consoleCols: number;
  execFifo: string | null;
  preserveFds: number;
  stdio: [number, number, number];
  createContainerHooks: HookStep[];
  startContainerHooks: HookStep[];
  setsid: boolean;
  /**
   * cgroups the process joins itself once the parent has made them (lib/cgroups/procs.ts selfJoin): v1
   * `tasks` files, and the v2 directory it is cloned into (CLONE_INTO_CGROUP) where the kernel allows.
   * Empty and null: the parent places it (cgroups.join).
   */
  cgroupTasks: string[];
  cgroupV2: string | null;
  /** the process waits for the parent's GO once its pid is known (cgroups, network); false: it goes straight on */
  waitPlaced: boolean;
}
