// The config.json `berth spec` writes: the same as runc 1.1's `runc spec` (and `runc spec --rootless`),
// key for key and in the same key order, so that JSON.stringify(spec, null, '\t') matches runc's file.
import type { Mount, Spec } from './types';

/** The runtime-spec version runc 1.1 writes into a new config.json. */
export const SPEC_VERSION = '1.0.2-dev';

export interface DefaultSpecOptions {
  /** like `runc spec --rootless`: user namespace mapping the caller to root, no network namespace */
  rootless?: boolean;
  /** host ids mapped to root when rootless; default: this process's effective uid and gid, as runc */
  hostUid?: number;
  hostGid?: number;
}

const CAPS = ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];

export function defaultSpec(opts: DefaultSpecOptions = {}): Spec {
  // Built fresh on every call: callers edit the result.
  const spec: Spec = {
    ociVersion: SPEC_VERSION,
    process: {
      terminal: true,
      user: { uid: 0, gid: 0 },
      args: ['sh'],
      env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm'],
      cwd: '/',
      capabilities: { bounding: [...CAPS], effective: [...CAPS], permitted: [...CAPS], ambient: [...CAPS] },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    root: { path: 'rootfs', readonly: true },
    hostname: 'runc',
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
      { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
      { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
      { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'] },
    ],
    linux: {
      resources: { devices: [{ allow: false, access: 'rwm' }] },
      namespaces: [{ type: 'pid' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }],
      maskedPaths: [
        '/proc/acpi', '/proc/asound', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list',
        '/proc/timer_stats', '/proc/sched_debug', '/sys/firmware', '/proc/scsi',
      ],
      readonlyPaths: ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
    },
  };
  return opts.rootless ? toRootless(spec, opts.hostUid ?? process.geteuid!(), opts.hostGid ?? process.getegid!()) : spec;
}

/** What runc's specconv.ToRootless does to the default spec. */
function toRootless(spec: Spec, uid: number, gid: number): Spec {
  const linux = spec.linux!;
  // An unprivileged user cannot create a network namespace with devices in it, nor write cgroup limits.
  const namespaces = linux.namespaces!.filter((ns) => ns.type !== 'network' && ns.type !== 'user');
  const rootless: Spec = {
    ...spec,
    // The unprivileged user cannot mount a new sysfs, nor pass gid= (gid 5 is not mapped) to devpts.
    mounts: spec.mounts!.map((m): Mount =>
      m.destination === '/sys'
        ? { destination: '/sys', type: 'none', source: '/sys', options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'] }
        : { ...m, ...(m.options ? { options: m.options.filter((o) => !o.startsWith('gid=') && !o.startsWith('uid=')) } : {}) },
    ),
    linux: {
      uidMappings: [{ containerID: 0, hostID: uid, size: 1 }],
      gidMappings: [{ containerID: 0, hostID: gid, size: 1 }],
      namespaces: [...namespaces, { type: 'user' }],
      maskedPaths: linux.maskedPaths,
      readonlyPaths: linux.readonlyPaths,
    },
  };
  return rootless;
}
