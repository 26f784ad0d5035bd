// The runtime as a library: create, start, run, exec, kill, wait, state, delete, list.
// The CLI (cli/) is a thin layer over these; a Node program can call them directly. Each operation lives
// in lifecycle/ and takes the kernel as a Sys (sys.ts); here they run on the real one (real-sys.ts).
import type { CreateOptions } from './lifecycle/create';
import type { DeleteOptions } from './lifecycle/delete';
import type { ExecOptions } from './lifecycle/exec';
import type { RunOptions } from './lifecycle/run';
import type { StoredState } from './state';
import { toContainerState, type CommonOptions, type ContainerState } from './status';
import { realSys } from './real-sys';
import * as op from './lifecycle';

export { list, state, type CommonOptions, type ContainerState, type Status } from './status';
export { loadSpec } from './lifecycle/spec-loader';
export type { CreateOptions, DeleteOptions, ExecOptions, RunOptions };

/** Creates a container: everything set up, the process waiting on its exec fifo until start(). */
export async function create(opts: CreateOptions): Promise<ContainerState> {
  return toContainerState(await op.createStored(opts, realSys), opts.startNow ? 'running' : 'created');
}

/** Lets a created container's process exec its program. */
export function start(id: string, opts: CommonOptions = {}): Promise<void> {
  return op.start(id, opts, realSys);
}

/** Sends a signal to the container's process, or with `all` to every process of its cgroups. */
export function kill(id: string, signal: number, opts: CommonOptions & { all?: boolean } = {}): Promise<void> {
  return op.kill(id, signal, opts, realSys);
}

/** Resolves with the exit of the container's process: our child (library) or any process (CLI). */
export function wait(pid: number): Promise<{ code: number; signal: number }> {
  return op.wait(pid, realSys);
}

/** Removes a stopped container; `force` kills a running one first. */
export function del(id: string, opts: DeleteOptions = {}): Promise<void> {
  return op.del(id, opts, realSys);
}

export function pause(id: string, opts: CommonOptions = {}): Promise<void> {
  return op.pause(id, opts, realSys);
}

export function resume(id: string, opts: CommonOptions = {}): Promise<void> {
  return op.resume(id, opts, realSys);
}

/** Host pids of every process of the container. */
export function pids(id: string, opts: CommonOptions = {}): Promise<number[]> {
  return op.pids(id, opts, realSys);
}

/** The state berth keeps for the container (its config included). */
export function stored(id: string, opts: CommonOptions = {}): Promise<StoredState> {
  return op.stored(id, opts, realSys);
}

/** Starts a process inside a running container's namespaces and cgroups; returns its pid. */
export function exec(opts: ExecOptions): Promise<number> {
  return op.exec(opts, realSys);
}

/** create + start + wait + delete: resolves with the exit code (128+signal when killed). */
export function run(opts: RunOptions): Promise<number> {
  return op.run(opts, realSys);
}
