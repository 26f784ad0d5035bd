import t from 'tap';
import { parseMountinfo, parseProcCgroup, type Hierarchies } from '../../lib/cgroups/hierarchy';
import { relativeCgroupPath, resolvePaths } from '../../lib/cgroups/paths';

// a hybrid host like the one these tests were written on, with cpu,cpuacct co-mounted as on most distros
const MOUNTINFO = `25 30 0:22 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755
26 25 0:23 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:10 - cgroup2 cgroup2 rw,nsdelegate
27 25 0:24 / /sys/fs/cgroup/systemd rw,nosuid shared:11 - cgroup cgroup rw,xattr,name=systemd
30 25 0:27 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid shared:14 - cgroup cgroup rw,cpu,cpuacct
31 25 0:28 / /sys/fs/cgroup/memory rw,nosuid shared:15 - cgroup cgroup rw,memory
32 25 0:29 /docker/abc /sys/fs/cgroup/pids rw,nosuid shared:16 - cgroup cgroup rw,pids
33 25 0:30 / /sys/fs/cgroup/net_cls,net_prio rw,nosuid shared:17 - cgroup cgroup rw,net_cls,net_prio`;

const PROC_CGROUP = `12:pids:/
5:cpu,cpuacct:/user.slice
4:memory:/process_api/abc
1:name=systemd:/init.scope
0::/init.scope`;

t.test('mountinfo gives each v1 controller its mount and finds the cgroup2 tree', async (t) => {
  const m = parseMountinfo(MOUNTINFO);
  t.same(m.v1, {
    cpu: '/sys/fs/cgroup/cpu,cpuacct', cpuacct: '/sys/fs/cgroup/cpu,cpuacct', memory: '/sys/fs/cgroup/memory',
    net_cls: '/sys/fs/cgroup/net_cls,net_prio', net_prio: '/sys/fs/cgroup/net_cls,net_prio',
    'name=systemd': '/sys/fs/cgroup/systemd',
  }, 'name=systemd is kept as runc keeps it; non-root bind mounts are skipped');
  t.equal(m.unified, '/sys/fs/cgroup/unified');
});

t.test('/proc/self/cgroup gives our own cgroup per controller', async (t) => {
  t.same(parseProcCgroup(PROC_CGROUP), {
    pids: '/', cpu: '/user.slice', cpuacct: '/user.slice', memory: '/process_api/abc', 'name=systemd': '/init.scope', '': '/init.scope',
  });
});

t.test('cgroupsPath placement: absolute as given, relative and empty below our own cgroup', async (t) => {
  t.equal(relativeCgroupPath('/default/c1', 'c1', '/process_api/abc'), '/default/c1');
  t.equal(relativeCgroupPath('pods/c1', 'c1', '/process_api/abc'), '/process_api/abc/pods/c1');
  t.equal(relativeCgroupPath('', 'c1', '/process_api/abc'), '/process_api/abc/berth/c1');
  t.equal(relativeCgroupPath(undefined, 'c1', '/'), '/berth/c1');
  t.throws(() => relativeCgroupPath('a/../../b', 'c1', '/'), { name: 'ConfigError', field: 'linux.cgroupsPath' });
  t.throws(() => relativeCgroupPath(undefined, 'a/b', '/'), { name: 'ConfigError', field: 'id' });
});

t.test('resolvePaths gives one directory per hierarchy and refuses the root', async (t) => {
  const h: Hierarchies = { layout: 'hybrid', ...parseMountinfo(MOUNTINFO), own: parseProcCgroup(PROC_CGROUP) };
  const p = resolvePaths(h, 'ctr', 'x');
  t.equal(p.cpu, '/sys/fs/cgroup/cpu,cpuacct/user.slice/ctr');
  t.equal(p.cpuacct, p.cpu, 'co-mounted controllers share the directory');
  t.equal(p.memory, '/sys/fs/cgroup/memory/process_api/abc/ctr');
  t.equal(p.unified, '/sys/fs/cgroup/unified/init.scope/ctr');
  t.equal(p['name=systemd'], '/sys/fs/cgroup/systemd/init.scope/ctr', 'the container gets its own name=systemd cgroup');
  t.equal(resolvePaths(h, '/a/b', 'x').memory, '/sys/fs/cgroup/memory/a/b');
  t.throws(() => resolvePaths(h, '/', 'x'), { name: 'ConfigError', field: 'linux.cgroupsPath' });
});
