// Installs a device policy on a v2 cgroup: load the generated program, attach it, then detach the
// programs that were there before (attach first, so the cgroup is never without a filter).
import fs = require('node:fs');
import * as fsp from '../util/fs-async';
import { native } from '../sys/native';
import { SyscallError, errnoCode } from '../util/errors';

// the BPF calls are typed in lib/sys/native.ts
const bpf = native;

function closeQuietly(fd: number): void {
  try {
    fs.closeSync(fd);
  } catch {
    /* already closed */
  }
}

export async function installDeviceProgram(dir: string, program: Buffer, field: string): Promise<void> {
  const cg = await fsp.open(dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
  const b = bpf();
  let progFd = -1;
  try {
    const before = b.bpfQueryDevicePrograms(cg);
    progFd = b.bpfLoadDeviceProgram(program);
    b.bpfAttachDeviceProgram(cg, progFd);
    for (const id of before) {
      const old = b.bpfProgFdById(id);
      try {
        b.bpfDetachDeviceProgram(cg, old);
      } finally {
        closeQuietly(old);
      }
    }
  } catch (e) {
    throw new SyscallError('device filter', errnoCode(e) ?? 'EUNKNOWN', (e as Error).message, field);
  } finally {
    // the attachment keeps the program alive; our fd is no longer needed
    if (progFd >= 0) closeQuietly(progFd);
    await fsp.close(cg);
  }
}

/** Ids of the device programs attached to a cgroup (for tests and diagnostics). */
export async function attachedDevicePrograms(dir: string): Promise<number[]> {
  const cg = await fsp.open(dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
  try {
    return bpf().bpfQueryDevicePrograms(cg);
  } finally {
    await fsp.close(cg);
  }
}
