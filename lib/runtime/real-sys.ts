// The Sys the lifecycle runs on (sys.ts): the addon, lib/cgroups, the overlay store, the CNI plugins.
// Each part loads on first use (lifecycle/modules.ts), so a command pays only for what it touches.
import fs = require('node:fs');
import * as fsp from '../util/fs-async';
import path = require('node:path');
import { native } from '../sys/native';
import { readableWithin } from '../sys/readable';
import { errnoCode } from '../util/errors';
import { connectConsoleSocket } from './console-socket';
import { socketFd } from '../util/unix-socket';
import { releaseExecFifo } from './exec-fifo';
import { writeFileAtomic } from '../util/fs';
import { readInRoot } from './home';
import { launchRoute } from './launch-route';
import { cgroupPaths, cgroups, cgroupValidation, hierarchy, hooks, hostMounts, launcher, network, rootfs } from './lifecycle/modules';
import {
  claimId, isAlive, lockContainer, processStartTime, readIntent, readState, removeContainerDir, writeIntent, writeState,
} from './state';
import { statusOf } from './status';
import type { NamespaceType } from './spec/types';
import type { CgroupSys, Sys } from './sys';

const NS_FILE: Partial<Record<NamespaceType, string>> = { network: 'net', mount: 'mnt' };

const cgroupSys: CgroupSys = {
  plan: (cgroupsPath, id) => {
    const h = hierarchy().hierarchies();
    return { layout: h.layout, paths: cgroupPaths().resolvePaths(h, cgroupsPath, id) };
  },
  layout: () => cgroups().detectLayout(),
  validate: (r, layout) => cgroupValidation().validateResources(r, layout),
  create: (spec) => cgroups().createCgroup(spec),
  // lib/cgroups joins, creates and removes across hierarchies in parallel (each cgroup.procs write waits
  // for an RCU grace period: nine at once cost well under one sequential)
  join: (h, pid) => cgroups().addProcess(h, pid),
  selfJoin: (h) => cgroups().selfJoin(h),
  update: (h, r) => cgroups().updateResources(h, r),
  killAll: (h, signal) => cgroups().killAll(h, signal),
  listPids: (h) => cgroups().listPids(h),
  freeze: (h) => cgroups().freeze(h),
  thaw: (h) => cgroups().thaw(h),
  destroy: (h) => cgroups().destroy(h),
};

export const realSys: Sys = {
  claim: (root, intent) => claimId(root, intent),
  writeIntent,
  readIntent,
  readState,
  hasState: async (root, id) => fs.existsSync(path.join(root, id, 'state.json')),
  writeState,
  removeContainerDir,
  lock: lockContainer,
  status: statusOf,
  makeExecFifo: async (file, uid, gid) => {
    native().mknod(file, 0o010000 | 0o622, 0, 0);
    fs.chmodSync(file, 0o622); // mknod applied our umask
    // the container's root (maybe an unprivileged host uid in a user namespace) opens it for writing
    fs.chownSync(file, uid, gid);
  },
  removeFile: async (file) => fs.rmSync(file, { force: true }),
  releaseExecFifo,
  makeEtcFiles: async (dir) => {
    const files = { hosts: path.join(dir, 'hosts'), resolv: path.join(dir, 'resolv.conf') };
    await fsp.writeFile(files.hosts, '');
    await fsp.writeFile(files.resolv, '');
    return files;
  },
  writeEtcFiles: (dir, files) => network().writeEtcFiles(dir, files),
  // runc: decimal pid, no newline, atomically
  writePidFile: (file, pid) => writeFileAtomic(path.resolve(file), String(pid), 0o644),

  launch: (plan, callbacks) => (launchRoute() ?? launcher()).launch(plan, callbacks),
  writeIdMaps: async (pid, uidMap, gidMap) => {
    await fsp.writeFile(`/proc/${pid}/uid_map`, uidMap);
    await fsp.writeFile(`/proc/${pid}/gid_map`, gidMap);
  },
  startTime: async (pid) => processStartTime(pid), // a /proc read never waits on a disk
  isAlive: (pid, startTime) => isAlive({ pid, pidStartTime: startTime }),
  signal: (pid, startTime, signal) => {
    const n = native();
    let fd: number;
    try {
      fd = n.pidfdOpen(pid);
    } catch (e) {
      if (errnoCode(e) === 'ESRCH') return false;
      throw e;
    }
    try {
      // the pidfd pins this exact process: check it is still ours before signalling
      if (processStartTime(pid) !== startTime) return false;
      n.pidfdSendSignal(fd, signal);
      return true;
    } finally {
      fs.closeSync(fd);
    }
  },
  killLaunched: (pid) => {
    try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
  },
  exitWithin: async (pid, ms) => {
    let fd: number;
    try {
      fd = native().pidfdOpen(pid);
    } catch {
      return; // gone already
    }
    try {
      await readableWithin(fd, ms);
    } finally {
      fs.closeSync(fd);
    }
  },
  waitPid: (pid, onExit) => (launchRoute() ?? native()).waitPid(pid, onExit),
  // no hooks (the usual case): the hook runner and node:child_process never load
  runHooks: async (list, state, field) => { if (list?.length) await hooks().runHooks(list, state, field); },

  namespacesOf: (pid, types) => types.filter((t) => fs.existsSync(`/proc/${pid}/ns/${NS_FILE[t] ?? t}`)),
  connectConsole: async (file) => {
    const s = await connectConsoleSocket(file);
    return { fd: socketFd(s), close: () => s.destroy() };
  },
  releaseRootfsBind: async (rootfs) => hostMounts().releaseRootfsBind(rootfs),
  readInRoot,
  loopbackUp: async (netns) => (require('./loopback') as typeof import('./loopback')).loopbackUp(netns),

  cgroups: cgroupSys,

  prepareRootfs: (dataRoot, image, id, owner) => rootfs().prepareRootfs(dataRoot, image, id, owner),
  releaseRootfs: (dataRoot, id, owner) => rootfs().releaseRootfs(dataRoot, id, owner),

  attachNetworks: (id, netns, opts) => network().attachNetworks(id, netns, opts),
  detachNetworks: (id, netns, attachments) => network().detachNetworks(id, netns, attachments),
  planNetworks: (opts) => network().planAttachments(opts),
};
