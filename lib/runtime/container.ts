// The runtime as a library: create, start, run, exec, kill, wait, state, delete, list.
// The CLI (cli/) is a thin layer over these; a Node program can call them directly. Each operation lives
// in lifecycle/ and takes the kernel as a Sys (sys.ts); here they run on the real one (real-sys.ts),
// each loaded on its first call so that importing this module costs no more than state and list need.
import type { CreateOptions } from './lifecycle/create';
import type { DeleteOptions } from './lifecycle/delete';
import type { ExecOptions } from './lifecycle/exec';
import { lazy } from './lifecycle/modules';
import type { RunOptions } from './lifecycle/run';
import type { Spec } from './spec/types';
import type { StoredState } from './state';
import { toContainerState, type CommonOptions, type ContainerState } from './status';
import type { Sys } from './sys';

export { list, state, type CommonOptions, type ContainerState, type Status } from './status';
export type { CreateOptions, DeleteOptions, ExecOptions, RunOptions };

const sys = lazy((): Sys => (require('./real-sys') as typeof import('./real-sys')).realSys);
const ops = {
  create: lazy(() => require('./lifecycle/create') as typeof import('./lifecycle/create')),
  start: lazy(() => require('./lifecycle/start') as typeof import('./lifecycle/start')),
  kill: lazy(() => require('./lifecycle/kill') as typeof import('./lifecycle/kill')),
  delete: lazy(() => require('./lifecycle/delete') as typeof import('./lifecycle/delete')),
  exec: lazy(() => require('./lifecycle/exec') as typeof import('./lifecycle/exec')),
  run: lazy(() => require('./lifecycle/run') as typeof import('./lifecycle/run')),
  pause: lazy(() => require('./lifecycle/pause') as typeof import('./lifecycle/pause')),
  wait: lazy(() => require('./lifecycle/wait') as typeof import('./lifecycle/wait')),
  query: lazy(() => require('./lifecycle/query') as typeof import('./lifecycle/query')),
  specs: lazy(() => require('./lifecycle/spec-loader') as typeof import('./lifecycle/spec-loader')),
};

/** <bundle>/config.json, parsed (not validated). */
export function loadSpec(bundle: string): Promise<Spec> {
  return ops.specs().loadSpec(bundle);
}

/** Creates a container: everything set up, the process waiting on its exec fifo until start(). */
export async function create(opts: CreateOptions): Promise<ContainerState> {
  return toContainerState(await ops.create().createStored(opts, sys()), opts.startNow ? 'running' : 'created');
}

/** Lets a created container's process exec its program. */
export function start(id: string, opts: CommonOptions = {}): Promise<void> {
  return ops.start().start(id, opts, sys());
}

/** Sends a signal to the container's process, or with `all` to every process of its cgroups. */
export function kill(id: string, signal: number, opts: CommonOptions & { all?: boolean } = {}): Promise<void> {
  return ops.kill().kill(id, signal, opts, sys());
}

/** Resolves with the exit of the container's process: our child (library) or any process (CLI). */
export function wait(pid: number): Promise<{ code: number; signal: number }> {
  return ops.wait().wait(pid, sys());
}

/** Removes a stopped container; `force` kills a running one first. */
export function del(id: string, opts: DeleteOptions = {}): Promise<void> {
  return ops.delete().del(id, opts, sys());
}

export function pause(id: string, opts: CommonOptions = {}): Promise<void> {
  return ops.pause().pause(id, opts, sys());
}

export function resume(id: string, opts: CommonOptions = {}): Promise<void> {
  return ops.pause().resume(id, opts, sys());
}

/** Host pids of every process of the container. */
export function pids(id: string, opts: CommonOptions = {}): Promise<number[]> {
  return ops.query().pids(id, opts, sys());
}

/** The state berth keeps for the container (its config included). */
export function stored(id: string, opts: CommonOptions = {}): Promise<StoredState> {
  return ops.query().stored(id, opts, sys());
}

/** Starts a process inside a running container's namespaces and cgroups; returns its pid. */
export function exec(opts: ExecOptions): Promise<number> {
  return ops.exec().exec(opts, sys());
}

/** create + start + wait + delete: resolves with the exit code (128+signal when killed). */
export function run(opts: RunOptions): Promise<number> {
  return ops.run().run(opts, sys());
}
