// berth's cgroup interface: one API over v1, v2 and hybrid hosts. The runtime stores the handle
// (plain data) in its state file and passes it back for every later operation.
export type { CgroupLayout, CgroupSpec, CgroupHandle, CgroupStats } from './types';
export { detectLayout } from './hierarchy';
export { createCgroup, updateResources } from './create';
export { addProcess, listPids, selfJoin } from './procs';
export { freeze, thaw, isFrozen } from './freezer';
export { killAll } from './kill';
export { stats } from './stats';
export { destroy } from './destroy';
export { watchOom } from './oom';
