import t from 'tap';
import { mountSteps } from '../../lib/runtime/plan';
import type { Spec } from '../../lib/runtime/spec/types';

const spec: Spec = { ociVersion: '1.0.2', mounts: [{ destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['ro'] }] };
const targets = (paths: Record<string, string>) => mountSteps(spec, '/b', paths).map((m) => `${m.target} <- ${m.source}`);

t.test('hybrid host: one bind per v1 hierarchy, name=systemd at systemd, the v2 tree left out (runc)', async (t) => {
  t.same(targets({ pids: '/sys/fs/cgroup/pids/c', 'name=systemd': '/sys/fs/cgroup/systemd/c', unified: '/sys/fs/cgroup/unified/c' }), [
    '/sys/fs/cgroup <- tmpfs',
    '/sys/fs/cgroup/pids <- /sys/fs/cgroup/pids/c',
    '/sys/fs/cgroup/systemd <- /sys/fs/cgroup/systemd/c',
  ]);
});

t.test('pure v2 host: the container\'s cgroup bound at the mount point', async (t) => {
  t.same(targets({ unified: '/sys/fs/cgroup/c' }), ['/sys/fs/cgroup <- /sys/fs/cgroup/c']);
});
