// runc's informational and tuning commands: spec, features, events, update.
import * as io from '../../util/io';
import fs = require('node:fs');
import path = require('node:path');
import * as cgroups from '../../cgroups';
import { BerthError, ConfigError } from '../../util/errors';
import * as c from '../container';
import type { LinuxResources } from '../spec/types';
import { bool, int, str } from '../../util/command-line';
import type { Handler } from './context';

export const spec: Handler = async (p) => {
  const bundle = path.resolve(io.cwd(), str(p, 'bundle') ?? '.');
  const file = path.join(bundle, 'config.json');
  if (fs.existsSync(file)) throw new BerthError('File config.json exists. Remove it first.');
  const { defaultSpec } = require('../spec/default') as typeof import('../spec/default');
  fs.writeFileSync(file, JSON.stringify(defaultSpec({ rootless: bool(p, 'rootless') }), null, '\t'));
  return 0;
};

export const features: Handler = async () => {
  const { CAPABILITIES } = require('../tables/capabilities') as typeof import('../tables/capabilities');
  const out = {
    ociVersionMin: '1.0.0',
    ociVersionMax: '1.2.0',
    hooks: ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'],
    mountOptions: ['async', 'atime', 'bind', 'defaults', 'dev', 'diratime', 'dirsync', 'exec', 'iversion', 'lazytime', 'loud',
      'mand', 'noatime', 'nodev', 'nodiratime', 'noexec', 'noiversion', 'nolazytime', 'nomand', 'norelatime', 'nostrictatime',
      'nosuid', 'nosymfollow', 'private', 'ratime', 'rbind', 'rdev', 'rdiratime', 'relatime', 'remount', 'rexec', 'rnoatime',
      'rnodev', 'rnodiratime', 'rnoexec', 'rnorelatime', 'rnostrictatime', 'rnosuid', 'rnosymfollow', 'ro', 'rprivate',
      'rrelatime', 'rro', 'rrw', 'rshared', 'rslave', 'rstrictatime', 'rsuid', 'rsymfollow', 'runbindable', 'rw', 'shared',
      'silent', 'slave', 'strictatime', 'suid', 'symfollow', 'sync', 'unbindable'],
    linux: {
      namespaces: ['cgroup', 'ipc', 'mount', 'network', 'pid', 'time', 'user', 'uts'],
      capabilities: Object.keys(CAPABILITIES),
      cgroup: { v1: true, v2: true, systemd: false, systemdUser: false, rdma: true },
      seccomp: {
        enabled: true,
        actions: ['SCMP_ACT_ALLOW', 'SCMP_ACT_ERRNO', 'SCMP_ACT_KILL', 'SCMP_ACT_KILL_PROCESS', 'SCMP_ACT_KILL_THREAD', 'SCMP_ACT_LOG', 'SCMP_ACT_TRACE', 'SCMP_ACT_TRAP'],
        operators: ['SCMP_CMP_EQ', 'SCMP_CMP_GE', 'SCMP_CMP_GT', 'SCMP_CMP_LE', 'SCMP_CMP_LT', 'SCMP_CMP_MASKED_EQ', 'SCMP_CMP_NE'],
        archs: ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_X32', 'SCMP_ARCH_X86', 'SCMP_ARCH_X86_64'],
        knownFlags: ['SECCOMP_FILTER_FLAG_TSYNC', 'SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW', 'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'],
        supportedFlags: ['SECCOMP_FILTER_FLAG_TSYNC', 'SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW', 'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'],
      },
      apparmor: { enabled: false },
      selinux: { enabled: false },
      intelRdt: { enabled: false },
      mountExtensions: { idmap: { enabled: false } },
    },
    annotations: { 'org.opencontainers.runc.version': 'berth 0.1.0 (runc-compatible CLI)' },
  };
  io.out(JSON.stringify(out, null, '    ') + '\n');
  return 0;
};

export const events: Handler = async (p, g) => {
  const id = p.positional[0];
  if (!id) throw new BerthError('"events" requires a container id');
  const s = await c.stored(id, { root: g.root });
  if (!s.cgroup) throw new BerthError('container has no cgroup');
  const h = s.cgroup;
  const emit = async () => io.out(JSON.stringify({ type: 'stats', id, data: await cgroups.stats(h) }) + '\n');
  if (bool(p, 'stats')) {
    await emit();
    return 0;
  }
  const seconds = parseFloat(str(p, 'interval')!);
  if (!(seconds > 0)) throw new BerthError('interval must be greater than 0', { field: '--interval' });
  const { oomKillCount } = require('../../cgroups/oom') as typeof import('../../cgroups/oom');
  let reported = (await oomKillCount(h).catch(() => undefined)) ?? 0;
  const reportOom = async () => {
    const now = (await oomKillCount(h).catch(() => undefined)) ?? reported;
    if (now > reported) io.out(JSON.stringify({ type: 'oom', id }) + '\n');
    reported = Math.max(reported, now);
  };
  const stopOom = cgroups.watchOom(h, () => void reportOom());
  await new Promise<void>((resolve) => {
    const timer = setInterval(async () => {
      if ((await c.state(id, { root: g.root }).catch(() => undefined))?.status !== 'running') {
        clearInterval(timer);
        stopOom();
        await reportOom(); // an OOM kill that ended the container may land between two polls
        resolve();
        return;
      }
      await emit().catch(() => undefined);
    }, seconds * 1000);
  });
  return 0;
};

const UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, kb: 1024, m: 1024 ** 2, mb: 1024 ** 2, g: 1024 ** 3, gb: 1024 ** 3, t: 1024 ** 4, tb: 1024 ** 4 };
function bytes(v: string, field: string): number {
  if (v === '-1') return -1;
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(v.trim());
  if (!m || !(m[2].toLowerCase() in UNITS)) throw new ConfigError(field, `invalid size "${v}"`);
  return Math.round(Number(m[1]) * UNITS[m[2].toLowerCase()]);
}

export const update: Handler = async (p, g) => {
  const id = p.positional[0];
  if (!id) throw new BerthError('"update" requires a container id');
  const s = await c.stored(id, { root: g.root });
  if (!s.cgroup) throw new BerthError('container has no cgroup');
  let r: LinuxResources;
  const file = str(p, 'resources');
  if (file) {
    const text = file === '-' ? fs.readFileSync(io.stdinFd(), 'utf8') : fs.readFileSync(path.resolve(io.cwd(), file), 'utf8');
    try { r = JSON.parse(text) as LinuxResources; } catch (e) { throw new ConfigError('--resources', `invalid JSON: ${(e as Error).message}`); }
  } else {
    r = {};
    const num = (name: string) => (str(p, name) === undefined ? undefined : int(p, name, 0));
    const mem = (name: string) => (str(p, name) === undefined ? undefined : bytes(str(p, name)!, `--${name}`));
    const memory = { limit: mem('memory'), reservation: mem('memory-reservation'), swap: mem('memory-swap') };
    if (Object.values(memory).some((v) => v !== undefined)) r.memory = memory;
    const cpu = { shares: num('cpu-shares'), quota: num('cpu-quota'), period: num('cpu-period'), burst: num('cpu-burst'),
      realtimePeriod: num('cpu-rt-period'), realtimeRuntime: num('cpu-rt-runtime'), cpus: str(p, 'cpuset-cpus'), mems: str(p, 'cpuset-mems') };
    if (Object.values(cpu).some((v) => v !== undefined)) r.cpu = cpu;
    if (str(p, 'pids-limit') !== undefined) r.pids = { limit: Number(str(p, 'pids-limit')) };
    if (str(p, 'blkio-weight') !== undefined) r.blockIO = { weight: num('blkio-weight') };
    for (const k of ['kernel-memory', 'kernel-memory-tcp', 'l3-cache-schema', 'mem-bw-schema']) {
      if (str(p, k) !== undefined) throw new ConfigError(`--${k}`, 'not supported');
    }
  }
  await cgroups.updateResources(s.cgroup, r);
  return 0;
};
