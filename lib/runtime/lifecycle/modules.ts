// Every command is a fresh process: the heavy parts (cgroup drivers, planner, seccomp compiler, bootstrap,
// CNI, the image store) load only in the commands that use them, so `state` and `list` start fast. Each is
// resolved once: require() of a loaded module still resolves its path, which a program starting many
// containers feels.
export function lazy<T>(load: () => T): () => T {
  let m: T | undefined;
  return () => (m ??= load());
}

export const cgroups = lazy(() => require('../../cgroups') as typeof import('../../cgroups'));
export const cgroupValidation = lazy(() => require('../../cgroups/validate') as typeof import('../../cgroups/validate'));
export const cgroupPaths = lazy(() => require('../../cgroups/paths') as typeof import('../../cgroups/paths'));
export const hierarchy = lazy(() => require('../../cgroups/hierarchy') as typeof import('../../cgroups/hierarchy'));
export const hooks = lazy(() => require('../host-hooks') as typeof import('../host-hooks'));
export const hostMounts = lazy(() => require('../host-mounts') as typeof import('../host-mounts'));
export const launcher = lazy(() => require('../launcher') as typeof import('../launcher'));
export const plans = lazy(() => require('../plan') as typeof import('../plan'));
export const validation = lazy(() => require('../spec/validate') as typeof import('../spec/validate'));
export const network = lazy(() => require('../network') as typeof import('../network'));
export const seccomp = lazy(() => require('../seccomp') as typeof import('../seccomp'));
export const deviceRules = lazy(() => require('../device-rules') as typeof import('../device-rules'));
export const imageSpec = lazy(() => require('../image-spec') as typeof import('../image-spec'));
// the rootfs part of the image store only: its index also loads the import and the CLI
export const rootfs = lazy(() => require('../../overlayfs/rootfs') as typeof import('../../overlayfs/rootfs'));
