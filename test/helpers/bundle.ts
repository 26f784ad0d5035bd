// Test bundles: a busybox root filesystem (Debian's busybox-static) and a runc-like config.json.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import type { Spec } from '../../lib/runtime/spec/types';

const BUSYBOX = '/bin/busybox';

let applets: string[] | undefined;

/** Makes a rootfs with busybox and its applets as symlinks, plus /etc/passwd and /etc/group. */
export function makeRootfs(dir: string): void {
  applets ??= execFileSync(BUSYBOX, ['--list'], { encoding: 'utf8' }).split('\n').filter(Boolean);
  for (const d of ['bin', 'dev', 'proc', 'sys', 'tmp', 'etc', 'root', 'home']) fs.mkdirSync(path.join(dir, d), { recursive: true });
  fs.copyFileSync(BUSYBOX, path.join(dir, 'bin', 'busybox'));
  fs.chmodSync(path.join(dir, 'bin', 'busybox'), 0o755);
  for (const a of applets) if (a !== 'busybox') fs.symlinkSync('busybox', path.join(dir, 'bin', a));
  fs.writeFileSync(path.join(dir, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n');
  fs.writeFileSync(path.join(dir, 'etc', 'group'), 'root:x:0:\nnogroup:x:65534:\n');
  fs.chmodSync(path.join(dir, 'tmp'), 0o1777);
}

export function baseSpec(args: string[]): Spec {
  return {
    ociVersion: '1.2.0',
    process: {
      terminal: false,
      user: { uid: 0, gid: 0 },
      args,
      env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm'],
      cwd: '/',
      capabilities: {
        bounding: ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'],
        effective: ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'],
        permitted: ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'],
        ambient: ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'],
      },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    root: { path: 'rootfs', readonly: false },
    hostname: 'berth',
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
      { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
      { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
    ],
    linux: {
      namespaces: [{ type: 'pid' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }],
      maskedPaths: ['/proc/acpi', '/proc/asound', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list',
        '/proc/timer_stats', '/proc/sched_debug', '/sys/firmware', '/proc/scsi'],
      readonlyPaths: ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
    },
  };
}

export interface Bundle {
  dir: string;
  root: string; // state root for this test
  spec: Spec;
  write(): void;
  cleanup(): void;
}

let counter = 0;

/** A bundle in a temp dir and a private state root; `cleanup` removes both. */
export function makeBundle(args: string[] = ['/bin/true'], rootfsCache?: string): Bundle {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-bundle-'));
  if (rootfsCache) fs.symlinkSync(rootfsCache, path.join(dir, 'rootfs'));
  else makeRootfs(path.join(dir, 'rootfs'));
  const root = path.join(dir, 'state');
  const b: Bundle = {
    dir,
    root,
    spec: baseSpec(args),
    write() { fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(b.spec, null, 2)); },
    cleanup() { fs.rmSync(dir, { recursive: true, force: true }); },
  };
  b.write();
  return b;
}

export function uniqueId(prefix: string): string {
  return `${prefix}-${process.pid}-${++counter}`;
}
