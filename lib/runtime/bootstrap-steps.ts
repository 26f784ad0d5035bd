// The sync protocol of the native bootstrap as the parent sees it: the step numbers it reports (C's
// `enum step`, by position here), with the words and the config.json field each failure is about, and the
// message types and header of the sync socket. test/unit/bootstrap-protocol.test.ts compiles the C header
// and fails on any difference, so neither side can drift.
import { BerthError } from '../util/errors';

export const PROTOCOL_HEADER = 'native/src/sync.h';

export const STEPS: [cName: string, name: string, field: (index: number) => string | undefined][] = [
  ['STEP_NONE', 'none', () => undefined],
  ['STEP_SETNS', 'join namespace', (i) => `linux.namespaces (path #${i})`],
  ['STEP_USERNS', 'create user namespace', () => 'linux.namespaces'],
  ['STEP_UNSHARE', 'create namespaces', () => 'linux.namespaces'],
  ['STEP_TIMENS', 'set time offsets', () => 'linux.timeOffsets'],
  ['STEP_CLONE', 'clone', () => undefined],
  ['STEP_SYNC', 'sync', () => undefined],
  ['STEP_CGROUPNS', 'create cgroup namespace', () => 'linux.namespaces'],
  ['STEP_HOSTNAME', 'set hostname', () => 'hostname'],
  ['STEP_DOMAINNAME', 'set domainname', () => 'domainname'],
  ['STEP_PROPAGATION', 'set mount propagation', () => 'linux.rootfsPropagation'],
  ['STEP_ROOTFS', 'bind root filesystem', () => 'root.path'],
  ['STEP_MOUNT', 'mount', (i) => (i >= 0 ? `mounts[${i}]` : 'mounts')],
  ['STEP_MOUNTPOINT', 'create mountpoint', (i) => (i >= 0 ? `mounts[${i}].destination` : 'mounts')],
  ['STEP_DEVICE', 'create device', (i) => (i >= 0 ? `linux.devices[${i}]` : 'linux.devices (default set)')],
  ['STEP_SYMLINK', 'create /dev symlink', () => undefined],
  ['STEP_CONSOLE', 'set up console', () => 'process.terminal'],
  ['STEP_HOOK', 'run hook', () => undefined],
  ['STEP_PIVOT', 'pivot_root', () => 'root.path'],
  ['STEP_MASK', 'mask path', (i) => `linux.maskedPaths[${i}]`],
  ['STEP_READONLY_PATH', 'make path read-only', (i) => `linux.readonlyPaths[${i}]`],
  ['STEP_READONLY_ROOT', 'make root read-only', () => 'root.readonly'],
  ['STEP_SYSCTL', 'write sysctl', (i) => `linux.sysctl (entry #${i})`],
  ['STEP_RLIMIT', 'set rlimit', (i) => `process.rlimits[${i}]`],
  ['STEP_OOM', 'set oom_score_adj', () => 'process.oomScoreAdj'],
  ['STEP_PERSONALITY', 'set personality', () => 'linux.personality'],
  ['STEP_GROUPS', 'set additional groups', () => 'process.user.additionalGids'],
  ['STEP_SETGID', 'set gid', () => 'process.user.gid'],
  ['STEP_SETUID', 'set uid', () => 'process.user.uid'],
  ['STEP_UMASK', 'set umask', () => 'process.user.umask'],
  ['STEP_CWD', 'enter working directory', () => 'process.cwd'],
  ['STEP_CAPS', 'set capabilities', () => 'process.capabilities'],
  ['STEP_NNP', 'set no_new_privs', () => 'process.noNewPrivileges'],
  ['STEP_SECCOMP', 'load seccomp filter', () => 'linux.seccomp'],
  ['STEP_FIFO', 'open exec fifo', () => undefined],
  ['STEP_LOOKUP', 'find executable', () => 'process.args'],
  ['STEP_EXEC', 'exec', () => 'process.args'],
  ['STEP_STDIO', 'set stdio', () => undefined],
  ['STEP_FDS', 'close descriptors', () => undefined],
  ['STEP_CGROUP', 'join cgroup', () => 'linux.cgroupsPath'],
];

const stepNumber = (cName: string): number => STEPS.findIndex(([c]) => c === cName);
export const STEP_HOOK = stepNumber('STEP_HOOK');
export const STEP_LOOKUP = stepNumber('STEP_LOOKUP');

/** `enum msg_type`: child -> parent, then parent -> child */
export const MSG = { NEED_MAPS: 1, PID: 2, MOUNTED: 3, READY: 4, ERROR: 5, GO: 10, ABORT: 11 } as const;
/** `struct sync_msg`: u32 type, i32 a, b, c, u32 payload length, little-endian, then the payload */
export const SYNC_HEADER = { size: 20, type: 0, a: 4, b: 8, c: 12, len: 16 } as const;

export class BootstrapError extends BerthError {
  readonly step: string;
  readonly errno: number;
  constructor(step: number, errno: number, index: number, detail: string, errnoName: string) {
    const [, name, fieldOf] = STEPS[step] ?? ['', `step ${step}`, () => undefined];
    const field = fieldOf(index);
    let message: string;
    if (step === STEP_LOOKUP && /^(ENOENT|EACCES)\b/.test(errnoName)) {
      // runc's (Go's exec.LookPath) wording, which clients match on
      if (detail.includes('/')) message = `exec: "${detail}": stat ${detail}: ${errnoName.startsWith('ENOENT') ? 'no such file or directory' : 'permission denied'}`;
      else message = errnoName.startsWith('ENOENT') ? `exec: "${detail}": executable file not found in $PATH` : `exec: "${detail}": permission denied`;
    } else if (step === STEP_HOOK) {
      message = `${name}: ${detail}`;
    } else if (errno === 0) {
      message = `${name} ${detail}`; // a refusal of the bootstrap's own, fully said in detail
    } else {
      message = `${name}${detail ? ` ${detail}` : ''}: ${errnoName}`;
    }
    super(message, { field });
    this.name = 'BootstrapError';
    this.step = name;
    this.errno = errno;
  }
}
