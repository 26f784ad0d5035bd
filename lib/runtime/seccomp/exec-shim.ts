// The one system call berth adds to every seccomp filter: the bootstrap's execveat of its exec shim.
//
// The bootstrap's last step is execveat(shimFd, "", [program, args...], env, AT_EMPTY_PATH), which runs
// the sealed exec shim (native/src/exec_shim.c) that then execs the program: /proc/self/exe inside the
// container then names the shim, never the host's node (CVE-2019-5736). That call comes after the filter
// is loaded, and a profile that allows execve need not allow execveat, so a prefix lets exactly this call
// through: execveat on the native architecture whose fd is the shim's number and whose flags are exactly
// AT_EMPTY_PATH. Nothing else is allowed, and everything else falls through to the profile unchanged.
// What the container gains is nothing execve does not already give it: the same call on whatever file it
// has at that number runs that file, as execve("/proc/self/fd/N") does.
import { ConfigError } from '../../util/errors';
import { ARCHES, nativeArch } from './arches';
import { SECCOMP_RET_ALLOW } from './actions';
import { Assembler, BPF_MAXINSNS, SOCK_FILTER_SIZE } from './bpf';

export const AT_EMPTY_PATH = 0x1000;

const OFFSET_NR = 0;
const OFFSET_ARCH = 4;
const argLow = (i: number) => 16 + 8 * i; // little-endian: the low word first
const argHigh = (i: number) => 20 + 8 * i;

/** `filter` with the shim's execveat allowed in front of it; the profile decides everything else. */
export function allowExecShim(filter: Buffer, shimFd: number, arch = nativeArch(), field = 'linux.seccomp'): Buffer {
  const info = arch === undefined ? undefined : ARCHES[arch];
  const execveat = info?.table.execveat;
  if (!info || execveat === undefined) throw new ConfigError(field, `berth has no system call table for this machine (${arch ?? process.arch})`);
  const asm = new Assembler();
  const profile = asm.label('profile');
  const test = (offset: number, value: number) => {
    asm.load(offset);
    asm.jump('jeq', value, 'next', profile);
  };
  test(OFFSET_ARCH, info.auditArch);
  test(OFFSET_NR, info.nrBase + execveat);
  test(argLow(0), shimFd);
  test(argHigh(0), 0);
  test(argLow(4), AT_EMPTY_PATH);
  test(argHigh(4), 0);
  asm.ret(SECCOMP_RET_ALLOW);
  asm.bind(profile);
  const prefix = asm.assemble();
  // the profile's program starts by loading what it needs (compileSeccomp's begins with the arch)
  const out = Buffer.concat([prefix, filter]);
  const count = out.length / SOCK_FILTER_SIZE;
  if (count > BPF_MAXINSNS) throw new ConfigError(field, `the compiled filter has ${count} instructions; the kernel accepts at most ${BPF_MAXINSNS}`);
  return out;
}
