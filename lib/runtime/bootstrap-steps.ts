// Step numbers reported by the native bootstrap (native/src/bootstrap.h `enum step`), with the words and
// the config.json field each failure is about.
import { BerthError } from '../util/errors';

const STEPS: [name: string, field: (index: number) => string | undefined][] = [
  ['none', () => undefined],
  ['join namespace', (i) => `linux.namespaces (path #${i})`],
  ['create user namespace', () => 'linux.namespaces'],
  ['create namespaces', () => 'linux.namespaces'],
  ['set time offsets', () => 'linux.timeOffsets'],
  ['clone', () => undefined],
  ['sync', () => undefined],
  ['create cgroup namespace', () => 'linux.namespaces'],
  ['set hostname', () => 'hostname'],
  ['set domainname', () => 'domainname'],
  ['set mount propagation', () => 'linux.rootfsPropagation'],
  ['bind root filesystem', () => 'root.path'],
  ['mount', (i) => (i >= 0 ? `mounts[${i}]` : 'mounts')],
  ['create mountpoint', (i) => (i >= 0 ? `mounts[${i}].destination` : 'mounts')],
  ['create device', (i) => (i >= 0 ? `linux.devices[${i}]` : 'linux.devices (default set)')],
  ['create /dev symlink', () => undefined],
  ['set up console', () => 'process.terminal'],
  ['run hook', () => undefined],
  ['pivot_root', () => 'root.path'],
  ['mask path', (i) => `linux.maskedPaths[${i}]`],
  ['make path read-only', (i) => `linux.readonlyPaths[${i}]`],
  ['make root read-only', () => 'root.readonly'],
  ['write sysctl', (i) => `linux.sysctl (entry #${i})`],
  ['set rlimit', (i) => `process.rlimits[${i}]`],
  ['set oom_score_adj', () => 'process.oomScoreAdj'],
  ['set personality', () => 'linux.personality'],
  ['set additional groups', () => 'process.user.additionalGids'],
  ['set gid', () => 'process.user.gid'],
  ['set uid', () => 'process.user.uid'],
  ['set umask', () => 'process.user.umask'],
  ['enter working directory', () => 'process.cwd'],
  ['set capabilities', () => 'process.capabilities'],
  ['set no_new_privs', () => 'process.noNewPrivileges'],
  ['load seccomp filter', () => 'linux.seccomp'],
  ['open exec fifo', () => undefined],
  ['find executable', () => 'process.args'],
  ['exec', () => 'process.args'],
  ['set stdio', () => undefined],
  ['close descriptors', () => undefined],
];

export const STEP_HOOK = 17;
export const STEP_LOOKUP = 35;

export class BootstrapError extends BerthError {
  readonly step: string;
  readonly errno: number;
  constructor(step: number, errno: number, index: number, detail: string, errnoName: string) {
    const [name, fieldOf] = STEPS[step] ?? [`step ${step}`, () => undefined];
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
