// The device cgroup rules a container gets: the config's own, then (like runc's AllowedDevices) the
// default devices, the pty devices and mknod of anything, then every device listed in linux.devices.
// Without these, runc's default `deny all` rule would leave a container without /dev/null.
import type { LinuxDeviceCgroup, Spec } from './spec/types';

const ALWAYS_ALLOWED: LinuxDeviceCgroup[] = [
  { allow: true, type: 'c', access: 'm' }, // mknod of any device; opening it is what the rules guard
  { allow: true, type: 'b', access: 'm' },
  { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' }, // null
  { allow: true, type: 'c', major: 1, minor: 8, access: 'rwm' }, // random
  { allow: true, type: 'c', major: 1, minor: 7, access: 'rwm' }, // full
  { allow: true, type: 'c', major: 5, minor: 0, access: 'rwm' }, // tty
  { allow: true, type: 'c', major: 1, minor: 5, access: 'rwm' }, // zero
  { allow: true, type: 'c', major: 1, minor: 9, access: 'rwm' }, // urandom
  { allow: true, type: 'c', major: 136, access: 'rwm' }, // /dev/pts/*
  { allow: true, type: 'c', major: 5, minor: 2, access: 'rwm' }, // ptmx
];

/** undefined when the config restricts nothing: the cgroup keeps the kernel's default (allow all). */
export function deviceRules(spec: Spec): LinuxDeviceCgroup[] | undefined {
  const own = spec.linux?.resources?.devices;
  if (!own?.length) return undefined;
  const listed = (spec.linux?.devices ?? [])
    .filter((d) => d.type === 'c' || d.type === 'b')
    .map((d): LinuxDeviceCgroup => ({ allow: true, type: d.type as 'c' | 'b', major: d.major, minor: d.minor, access: 'rwm' }));
  return [...own, ...ALWAYS_ALLOWED, ...listed];
}

// Filesystems that take no block device as their source: no device cgroup rule can refuse mounting them.
const DEVICELESS_FS = new Set(['proc', 'sysfs', 'tmpfs', 'devpts', 'mqueue', 'cgroup', 'cgroup2', 'overlay', 'securityfs']);

/**
 * runc applies device rules once the mounts are done, so a config may mount a block device its rules deny.
 * When every mount is a bind or a device-less filesystem, applying them with the other limits changes
 * nothing the container can observe: the bootstrap's own mknod is always allowed (see above), and the
 * container's program only runs after both. That saves the pause after mounts and a round of writes.
 */
export function devicesAtCreate(spec: Spec): boolean {
  return (spec.mounts ?? []).every((m) => m.type === 'bind' || (m.options ?? []).some((o) => o === 'bind' || o === 'rbind') || DEVICELESS_FS.has(m.type ?? ''));
}
