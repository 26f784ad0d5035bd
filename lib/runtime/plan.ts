// Builds the launch plan (launch-plan.ts) from a validated config.json: every decision is made here, in
// TypeScript, so the C bootstrap only executes. Pure apart from stat() of bind-mount sources.
import fs = require('node:fs');
import path = require('node:path');
import { CLONE, MS } from '../sys/native';
import { ConfigError } from '../util/errors';
import { type InRoot, passwdAtCreate, passwdAtExec, readInRoot, withHome } from './home';
import type { DeviceStep, HookStep, LaunchPlan, MountStep, RlimitStep } from './launch-plan';
import { PROPAGATION_FLAGS, parseMountOptions } from './mount-options';
import type { Device, Hook, Namespace, NamespaceType, Process, Spec } from './spec/types';
import { validateProcess } from './spec/validate';
import { capabilityMask } from './tables/capabilities';
import { rlimitNumber } from './tables/rlimits';
import { personalityValue } from './tables/personality';

export const NAMESPACE_FLAGS: Record<NamespaceType, number> = {
  pid: CLONE.NEWPID, network: CLONE.NEWNET, mount: CLONE.NEWNS, ipc: CLONE.NEWIPC, uts: CLONE.NEWUTS,
  user: CLONE.NEWUSER, cgroup: CLONE.NEWCGROUP, time: CLONE.NEWTIME,
};
const PROC_NS_NAME: Record<NamespaceType, string> = {
  pid: 'pid', network: 'net', mount: 'mnt', ipc: 'ipc', uts: 'uts', user: 'user', cgroup: 'cgroup', time: 'time',
};

const S_IFCHR = 0o020000;
const S_IFBLK = 0o060000;
const S_IFIFO = 0o010000;
const U64_MAX = (1n << 64n) - 1n;

/** The devices every container gets (runtime-spec "Default Devices"). */
export const DEFAULT_DEVICES: Device[] = [
  { type: 'c', path: '/dev/null', major: 1, minor: 3, fileMode: 0o666, uid: 0, gid: 0 },
  { type: 'c', path: '/dev/zero', major: 1, minor: 5, fileMode: 0o666, uid: 0, gid: 0 },
  { type: 'c', path: '/dev/full', major: 1, minor: 7, fileMode: 0o666, uid: 0, gid: 0 },
  { type: 'c', path: '/dev/random', major: 1, minor: 8, fileMode: 0o666, uid: 0, gid: 0 },
  { type: 'c', path: '/dev/urandom', major: 1, minor: 9, fileMode: 0o666, uid: 0, gid: 0 },
  { type: 'c', path: '/dev/tty', major: 5, minor: 0, fileMode: 0o666, uid: 0, gid: 0 },
];

export interface CreatePlanOptions {
  bundle: string;
  execFifo: string | null;
  consoleSocketFd?: number;
  preserveFds?: number;
  noPivot?: boolean;
  stdio?: [number, number, number];
  /** container hooks need the state JSON, which the parent sends after MSG_MOUNTED */
  pauseAfterMounts: boolean;
  /** per-hierarchy host directories of the container's cgroups, for `cgroup` mounts */
  cgroupPaths?: Record<string, string>;
  seccomp?: { filter: Buffer; flags: number } | null;
  /**
   * the container's cgroups as the process would join them itself (lib/cgroups/procs.ts selfJoin); used
   * only when it is cloned straight from the caller with full rights over the host's cgroup files: nothing
   * to join and no user namespace (a joined mount namespace hides the paths; a mapped root may not write)
   */
  selfJoin?: { tasks: string[]; v2: string | null };
  /** reads the container's /etc/passwd for HOME (the lifecycle's Sys); default: through the addon */
  readInRoot?: (file: InRoot) => string | undefined;
}

function toU64(n: number): bigint {
  if (n < 0) return U64_MAX; // -1 means unlimited in some tools
  if (n >= 2 ** 64) return U64_MAX; // JSON's 18446744073709551615 rounds up past u64
  return BigInt(Math.round(n));
}

export function rlimitSteps(process: Process): RlimitStep[] {
  return (process.rlimits ?? []).map((r, i) => {
    const field = `process.rlimits[${i}]`;
    const resource = rlimitNumber(r.type, `${field}.type`);
    const soft = toU64(r.soft);
    const hard = toU64(r.hard);
    if (soft > hard) throw new ConfigError(field, `soft limit ${r.soft} is above hard limit ${r.hard}`);
    return { resource, soft, hard };
  });
}

function hookSteps(hooks: Hook[] | undefined): HookStep[] {
  return (hooks ?? []).map((h, index) => ({
    path: h.path,
    args: h.args && h.args.length ? h.args : [h.path],
    env: h.env ?? [],
    timeout: h.timeout ?? 0,
    index,
  }));
}

/** The process half of a plan: shared by create and exec. */
export function processPlan(process: Process): Pick<LaunchPlan,
  'args' | 'env' | 'cwd' | 'uid' | 'gid' | 'additionalGids' | 'setGroups' | 'umask' | 'rlimits' | 'capabilities' |
  'noNewPrivileges' | 'oomScoreAdj' | 'terminal' | 'consoleRows' | 'consoleCols'> {
  const caps = process.capabilities;
  return {
    args: process.args ?? [],
    env: process.env ?? [],
    cwd: process.cwd,
    uid: process.user.uid,
    gid: process.user.gid,
    additionalGids: process.user.additionalGids ?? [],
    setGroups: true,
    umask: process.user.umask ?? -1,
    rlimits: rlimitSteps(process),
    // no capabilities, or no set, is an empty set (as runc): not "keep the runtime's own"
    capabilities: {
      bounding: capabilityMask(caps?.bounding ?? [], 'process.capabilities.bounding'),
      effective: capabilityMask(caps?.effective ?? [], 'process.capabilities.effective'),
      inheritable: capabilityMask(caps?.inheritable ?? [], 'process.capabilities.inheritable'),
      permitted: capabilityMask(caps?.permitted ?? [], 'process.capabilities.permitted'),
      ambient: capabilityMask(caps?.ambient ?? [], 'process.capabilities.ambient'),
    },
    noNewPrivileges: process.noNewPrivileges ?? false,
    oomScoreAdj: process.oomScoreAdj ?? null,
    terminal: process.terminal ?? false,
    consoleRows: process.consoleSize?.height ?? 0,
    consoleCols: process.consoleSize?.width ?? 0,
  };
}

function deviceStep(d: Device, index: number, bind: boolean): DeviceStep {
  const type = d.type === 'b' ? S_IFBLK : d.type === 'p' ? S_IFIFO : S_IFCHR;
  return {
    path: d.path, mode: type | ((d.fileMode ?? 0o666) & 0o7777), major: d.major ?? 0, minor: d.minor ?? 0,
    uid: d.uid ?? 0, gid: d.gid ?? 0, bind, index,
  };
}

function isDirectory(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return true; // a missing source fails at mount time with the path in the message
  }
}

function cgroupMounts(dest: string, base: MountStep, cgroupPaths: Record<string, string> | undefined): MountStep[] {
  const paths = cgroupPaths ?? {};
  const names = Object.keys(paths);
  if (names.length === 1 && names[0] === 'unified') {
    return [{ ...base, source: paths.unified, target: dest, fstype: null, bind: true, flags: base.flags | MS.BIND | MS.REC, data: null }];
  }
  // v1 and hybrid: a tmpfs with one bind mount per v1 hierarchy, as runc lays it out (the v2 tree of a
  // hybrid host is not mounted; name=systemd is, at "systemd")
  const steps: MountStep[] = [{ ...base, source: 'tmpfs', target: dest, fstype: 'tmpfs', flags: base.flags & ~MS.RDONLY, data: 'mode=755', bind: false }];
  for (const name of names.filter((n) => n !== 'unified')) {
    const dir = name.replace(/^name=/, '');
    steps.push({ ...base, source: paths[name], target: path.posix.join(dest, dir), fstype: null, bind: true, flags: base.flags | MS.BIND | MS.REC, data: null, propagation: [] });
  }
  return steps;
}

export function mountSteps(spec: Spec, bundle: string, cgroupPaths?: Record<string, string>): MountStep[] {
  const steps: MountStep[] = [];
  (spec.mounts ?? []).forEach((m, index) => {
    const field = `mounts[${index}]`;
    const o = parseMountOptions(m.options, `${field}.options`);
    const bind = o.bind || m.type === 'bind';
    let source = m.source ?? null;
    if (bind && source && !path.isAbsolute(source)) source = path.resolve(bundle, source);
    const step: MountStep = {
      source, target: m.destination, fstype: bind ? null : (m.type ?? null),
      flags: bind ? o.flags | MS.BIND : o.flags, propagation: o.propagation, data: o.data.length ? o.data.join(',') : null,
      bind, file: bind && source !== null && !isDirectory(source), attrSet: o.attrSet, attrClr: o.attrClr, index,
    };
    if (m.type === 'cgroup' || m.type === 'cgroup2') steps.push(...cgroupMounts(m.destination, step, cgroupPaths));
    else steps.push(step);
  });
  return steps;
}

/** Namespaces to create (clone flags) and to join (by path), user first as setns requires. */
export function namespacePlan(namespaces: Namespace[]): Pick<LaunchPlan, 'cloneFlags' | 'newUserns' | 'join'> {
  let cloneFlags = 0;
  let newUserns = false;
  const join: { type: number; path: string }[] = [];
  for (const ns of namespaces) {
    const flag = NAMESPACE_FLAGS[ns.type];
    if (ns.path) join.push({ type: flag, path: ns.path });
    else if (ns.type === 'user') newUserns = true;
    else cloneFlags |= flag;
  }
  join.sort((a, b) => Number(b.type === CLONE.NEWUSER) - Number(a.type === CLONE.NEWUSER));
  return { cloneFlags, newUserns, join };
}

function timeOffsets(spec: Spec): string | null {
  const offsets = spec.linux?.timeOffsets;
  if (!offsets) return null;
  return Object.entries(offsets).map(([clock, o]) => `${clock} ${o.secs ?? 0} ${o.nanosecs ?? 0}`).join('\n');
}

export function buildCreatePlan(spec: Spec, opts: CreatePlanOptions): LaunchPlan {
  const process = spec.process!;
  const linux = spec.linux ?? {};
  const ns = namespacePlan(linux.namespaces ?? []);
  const inUserns = ns.newUserns || ns.join.some((j) => j.type === CLONE.NEWUSER);
  const rootfs = path.resolve(opts.bundle, spec.root!.path);
  const given = new Set((linux.devices ?? []).map((d) => d.path));
  const devices = [
    ...DEFAULT_DEVICES.filter((d) => !given.has(d.path)).map((d) => deviceStep(d, -1, inUserns)),
    ...(linux.devices ?? []).map((d, i) => deviceStep(d, i, inUserns)),
  ];
  const sysctl = Object.entries(linux.sysctl ?? {});
  const proc = processPlan(process);
  const selfJoin = !ns.join.length && !ns.newUserns && !timeOffsets(spec) ? opts.selfJoin : undefined;
  const passwd = passwdAtCreate(rootfs, spec.mounts ?? [], opts.bundle);
  proc.env = withHome(proc.env, proc.uid, () => (passwd ? (opts.readInRoot ?? readInRoot)(passwd) : undefined));
  return {
    ...ns,
    timeOffsets: timeOffsets(spec),
    rootfs,
    rootPropagation: linux.rootfsPropagation ? PROPAGATION_FLAGS[linux.rootfsPropagation] : 0,
    noPivot: opts.noPivot ?? false,
    readonlyRoot: spec.root!.readonly ?? false,
    pauseAfterMounts: opts.pauseAfterMounts,
    mounts: mountSteps(spec, opts.bundle, opts.cgroupPaths),
    devices,
    defaultLinks: true,
    maskedPaths: linux.maskedPaths ?? [],
    readonlyPaths: linux.readonlyPaths ?? [],
    hostname: spec.hostname ?? null,
    domainname: spec.domainname ?? null,
    // runc turns dots into slashes: net.ipv4.ip_forward -> /proc/sys/net/ipv4/ip_forward
    sysctlPaths: sysctl.map(([k]) => `/proc/sys/${k.replace(/\./g, '/')}`),
    sysctlValues: sysctl.map(([, v]) => v),
    ...proc,
    personality: linux.personality ? personalityValue(linux.personality, 'linux.personality') : -1,
    seccomp: opts.seccomp?.filter ?? null,
    seccompFlags: opts.seccomp?.flags ?? 0,
    consoleSocketFd: opts.consoleSocketFd ?? -1,
    execFifo: opts.execFifo,
    preserveFds: opts.preserveFds ?? 0,
    stdio: opts.stdio ?? [-1, -1, -1],
    createContainerHooks: hookSteps(spec.hooks?.createContainer),
    startContainerHooks: hookSteps(spec.hooks?.startContainer),
    setsid: true,
    cgroupTasks: selfJoin?.tasks ?? [],
    cgroupV2: selfJoin?.v2 ?? null,
    waitPlaced: true,
  };
}

export interface ExecPlanOptions {
  pid: number;
  namespaces: NamespaceType[];
  process: Process;
  consoleSocketFd?: number;
  preserveFds?: number;
  stdio?: [number, number, number];
  seccomp?: { filter: Buffer; flags: number } | null;
  setsid?: boolean;
  readInRoot?: (file: InRoot) => string | undefined;
}

/** `berth exec`: join every namespace of the running container through /proc/<pid>/ns. */
export function buildExecPlan(opts: ExecPlanOptions): LaunchPlan {
  validateProcess(opts.process); // `exec --process` and `-u` bring their own, unchecked until here
  const order = [...opts.namespaces].sort((a, b) => Number(b === 'user') - Number(a === 'user'));
  const proc = processPlan(opts.process);
  proc.env = withHome(proc.env, proc.uid, () => (opts.readInRoot ?? readInRoot)(passwdAtExec(opts.pid, opts.namespaces.includes('mount'))));
  return {
    cloneFlags: 0,
    newUserns: false,
    join: order.map((t) => ({ type: NAMESPACE_FLAGS[t], path: `/proc/${opts.pid}/ns/${PROC_NS_NAME[t]}` })),
    timeOffsets: null,
    rootfs: null,
    rootPropagation: 0,
    noPivot: false,
    readonlyRoot: false,
    pauseAfterMounts: false,
    mounts: [],
    devices: [],
    defaultLinks: false,
    maskedPaths: [],
    readonlyPaths: [],
    hostname: null,
    domainname: null,
    sysctlPaths: [],
    sysctlValues: [],
    ...proc,
    personality: -1,
    seccomp: opts.seccomp?.filter ?? null,
    seccompFlags: opts.seccomp?.flags ?? 0,
    consoleSocketFd: opts.consoleSocketFd ?? -1,
    execFifo: null,
    preserveFds: opts.preserveFds ?? 0,
    stdio: opts.stdio ?? [-1, -1, -1],
    createContainerHooks: [],
    startContainerHooks: [],
    setsid: opts.setsid ?? false,
    cgroupTasks: [],
    cgroupV2: null,
    waitPlaced: true,
  };
}
