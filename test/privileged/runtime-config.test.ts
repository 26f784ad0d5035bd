// config.json coverage on the real kernel: each test runs busybox in a container and reads back what it sees.
import t from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { runIn } from '../helpers/run';

const sh = (script: string) => ['/bin/sh', '-c', script];

t.test('pid namespace: the process is pid 1 and sees only its own processes', async (t) => {
  const r = await runIn(sh('echo $$; ls /proc | grep -c "^[0-9]"'));
  t.equal(r.code, 0, r.stderr);
  const [pid, count] = r.stdout.trim().split('\n').map(Number);
  t.equal(pid, 1);
  t.ok(count <= 3, `few processes visible (${count})`);
});

t.test('uts, ipc, net, mount namespaces differ from the host; hostname and domainname are set', async (t) => {
  const r = await runIn(sh('hostname; cat /proc/sys/kernel/domainname; for n in uts ipc net mnt; do readlink /proc/self/ns/$n; done; ip link 2>/dev/null | grep -c "^[0-9]"'), (s) => {
    s.hostname = 'box-one';
    s.domainname = 'example.test';
  });
  t.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  t.equal(lines[0], 'box-one');
  t.equal(lines[1], 'example.test');
  for (const [i, n] of ['uts', 'ipc', 'net', 'mnt'].entries()) t.not(lines[2 + i], fs.readlinkSync(`/proc/self/ns/${n}`), `${n} namespace is new`);
  t.equal(lines[6], '1', 'only loopback in the new network namespace');
});

t.test('joining a namespace by path: the container uses the given network namespace', async (t) => {
  const name = `berth-join-${process.pid}`;
  execFileSync('ip', ['netns', 'add', name]);
  t.teardown(() => execFileSync('ip', ['netns', 'del', name]));
  execFileSync('ip', ['-n', name, 'link', 'add', 'marker0', 'type', 'veth', 'peer', 'name', 'marker1']);
  const r = await runIn(sh('readlink /proc/self/ns/net; ip link show marker0 >/dev/null && echo found'), (s) => {
    s.linux!.namespaces = s.linux!.namespaces!.map((n) => (n.type === 'network' ? { type: 'network', path: `/run/netns/${name}` } : n));
  });
  t.equal(r.code, 0, r.stderr);
  const [ns, found] = r.stdout.trim().split('\n');
  t.equal(ns, `net:[${fs.statSync(`/run/netns/${name}`).ino}]`);
  t.equal(found, 'found');
});

t.test('cgroup and time namespaces: own cgroup is /, monotonic clock offset applies', async (t) => {
  const r = await runIn(sh('cat /proc/self/cgroup | grep -c ":/$"; cat /proc/uptime | cut -d. -f1'), (s) => {
    s.linux!.namespaces!.push({ type: 'cgroup' }, { type: 'time' });
    s.linux!.timeOffsets = { boottime: { secs: 86400 * 365, nanosecs: 0 } };
  });
  t.equal(r.code, 0, r.stderr);
  const [rootLines, uptime] = r.stdout.trim().split('\n').map(Number);
  const lines = fs.readFileSync('/proc/self/cgroup', 'utf8').trim().split('\n').length;
  t.equal(rootLines, lines, 'every hierarchy shows the container at its own root');
  t.ok(uptime >= 86400 * 365, `boottime shifted by a year (uptime ${uptime}s)`);
});

t.test('mounts: tmpfs with options, read-only bind of a host dir, file bind, propagation flags', async (t) => {
  const host = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-src-'));
  t.teardown(() => fs.rmSync(host, { recursive: true, force: true }));
  fs.writeFileSync(path.join(host, 'hello'), 'from host\n');
  const r = await runIn(sh('cat /data/hello; touch /data/x 2>/dev/null && echo writable || echo readonly; grep " /scratch " /proc/self/mountinfo; cat /etc/single; grep " /data " /proc/self/mountinfo'), (s) => {
    s.mounts!.push(
      { destination: '/scratch', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'size=1m', 'mode=700'] },
      { destination: '/data', type: 'bind', source: host, options: ['rbind', 'ro', 'rprivate'] },
      { destination: '/etc/single', type: 'bind', source: path.join(host, 'hello'), options: ['bind', 'ro'] },
    );
  });
  t.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  t.equal(lines[0], 'from host');
  t.equal(lines[1], 'readonly');
  t.match(lines[2], /nosuid,nodev/);
  t.match(lines[2], /size=1024k,mode=700/);
  t.equal(lines[3], 'from host');
  t.notMatch(lines[4], /shared:/, 'rprivate: no peer group');
  t.notOk(fs.existsSync(path.join(host, 'x')), 'nothing written to the host dir');
});

t.test('masked and read-only paths', async (t) => {
  t.ok(fs.statSync('/proc/timer_list').isFile(), 'the host has /proc/timer_list');
  const r = await runIn(sh('cat /proc/timer_list 2>&1 | wc -c; ls /sys/firmware | wc -l; echo 1 > /proc/sys/kernel/ns_last_pid 2>&1 && echo writable || echo readonly'));
  t.equal(r.code, 0, r.stderr);
  const [timers, firmware, sys] = r.stdout.trim().split('\n');
  t.equal(timers.trim(), '0', '/proc/timer_list reads as /dev/null');
  t.equal(firmware.trim(), '0', '/sys/firmware is an empty tmpfs');
  t.equal(sys, 'readonly', '/proc/sys is read-only');
});

t.test('root.readonly makes / read-only', async (t) => {
  const r = await runIn(sh('touch /newfile 2>/dev/null && echo writable || echo readonly'), (s) => { s.root!.readonly = true; });
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stdout.trim(), 'readonly');
});

t.test('devices: the default set and a configured device with owner and mode', async (t) => {
  const r = await runIn(sh('for d in null zero full random urandom tty; do stat -c "%n %t:%T %a" /dev/$d; done; stat -c "%n %t:%T %a %u:%g" /dev/mynull; echo x > /dev/null && echo null-ok; readlink /dev/ptmx; readlink /dev/fd'), (s) => {
    s.linux!.devices = [{ type: 'c', path: '/dev/mynull', major: 1, minor: 3, fileMode: 0o640, uid: 7, gid: 8 }];
  });
  t.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  t.same(lines.slice(0, 6), ['/dev/null 1:3 666', '/dev/zero 1:5 666', '/dev/full 1:7 666', '/dev/random 1:8 666', '/dev/urandom 1:9 666', '/dev/tty 5:0 666']);
  t.equal(lines[6], '/dev/mynull 1:3 640 7:8');
  t.equal(lines[7], 'null-ok');
  t.same(lines.slice(8), ['pts/ptmx', '/proc/self/fd']);
});

t.test('users and groups: uid, gid, additional gids, umask', async (t) => {
  const r = await runIn(sh('id -u; id -g; id -G; umask'), (s) => {
    s.process!.user = { uid: 1000, gid: 1001, additionalGids: [20, 30], umask: 0o027 };
  });
  t.equal(r.code, 0, r.stderr);
  t.same(r.stdout.trim().split('\n'), ['1000', '1001', '1001 20 30', '0027']);
});

t.test('capabilities: the five sets reach the process', async (t) => {
  const r = await runIn(['/bin/cat', '/proc/self/status'], (s) => {
    const caps = ['CAP_CHOWN', 'CAP_NET_RAW', 'CAP_SYS_ADMIN'];
    s.process!.capabilities = { bounding: [...caps, 'CAP_KILL'], effective: caps, permitted: caps, inheritable: ['CAP_CHOWN'], ambient: ['CAP_CHOWN'] };
  });
  t.equal(r.code, 0, r.stderr);
  const field = (name: string) => BigInt('0x' + /^(\w+):\s+([0-9a-f]+)$/m.exec(r.stdout.split('\n').find((l) => l.startsWith(name + ':'))!)![2]);
  const bit = (n: number) => 1n << BigInt(n);
  t.equal(field('CapBnd'), bit(0) | bit(13) | bit(21) | bit(5), 'bounding: CHOWN, NET_RAW, SYS_ADMIN, KILL');
  t.equal(field('CapEff'), bit(0) | bit(13) | bit(21));
  t.equal(field('CapPrm'), bit(0) | bit(13) | bit(21));
  t.equal(field('CapInh'), bit(0));
  t.equal(field('CapAmb'), bit(0));
});

t.test('rlimits, no_new_privs and oom_score_adj', async (t) => {
  const r = await runIn(sh('ulimit -n; ulimit -Hn; grep NoNewPrivs /proc/self/status; cat /proc/self/oom_score_adj'), (s) => {
    s.process!.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 123, hard: 456 }];
    s.process!.noNewPrivileges = true;
    s.process!.oomScoreAdj = 500;
  });
  t.equal(r.code, 0, r.stderr);
  t.same(r.stdout.trim().split('\n').map((l) => l.replace(/\s+/g, ' ')), ['123', '456', 'NoNewPrivs: 1', '500']);
});

t.test('seccomp: a profile makes mkdir fail with EPERM while the rest works', async (t) => {
  const r = await runIn(sh('mkdir /tmp/blocked; echo "mkdir=$?"; touch /tmp/allowed && echo touch-ok'), (s) => {
    s.linux!.seccomp = {
      defaultAction: 'SCMP_ACT_ALLOW',
      architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
      syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }],
    };
  });
  t.equal(r.code, 0, r.stderr);
  t.match(r.stderr, /Operation not permitted/);
  t.match(r.stdout, /mkdir=1/);
  t.match(r.stdout, /touch-ok/);
});

t.test('user namespace with uid/gid mappings', async (t) => {
  const owned = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-userns-'));
  t.teardown(() => fs.rmSync(owned, { recursive: true, force: true }));
  fs.chownSync(owned, 100000, 100000);
  const r = await runIn(sh('cat /proc/self/uid_map /proc/self/gid_map; id -u; touch /tmp/owned/f; stat -c %u /tmp/owned/f'), (s) => {
    s.linux!.namespaces!.push({ type: 'user' });
    s.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    s.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    // the rootfs belongs to host root, unmapped here: mount below the world-writable /tmp
    s.mounts!.push({ destination: '/tmp/owned', type: 'bind', source: owned, options: ['rbind'] });
    // sysfs cannot be mounted from a user namespace that does not own the network namespace's parent; keep it simple
    s.mounts = s.mounts!.filter((m) => !m.destination.startsWith('/sys'));
  });
  t.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n').map((l) => l.trim().replace(/\s+/g, ' '));
  t.same(lines.slice(0, 2), ['0 100000 65536', '0 100000 65536']);
  t.equal(lines[2], '0', 'root inside');
  t.equal(lines[3], '0', 'the file belongs to root inside');
  t.equal(fs.statSync(path.join(owned, 'f')).uid, 100000, 'and to uid 100000 on the host');
});

t.test('sysctl and rootfsPropagation', async (t) => {
  const r = await runIn(sh('cat /proc/sys/net/ipv4/ip_forward; awk \'$5 == "/"\' /proc/self/mountinfo'), (s) => {
    s.linux!.sysctl = { 'net.ipv4.ip_forward': '1' };
    s.linux!.rootfsPropagation = 'rprivate';
  });
  t.equal(r.code, 0, r.stderr);
  const [fwd, root] = r.stdout.trim().split('\n');
  t.equal(fwd, '1');
  t.match(root, /^\d+ \d+ /, 'the root mount is listed');
  t.notMatch(root, /shared:|master:/, 'root is private');
});

t.test('environment, args and cwd', async (t) => {
  const r = await runIn(['/bin/sh', '-c', 'pwd; echo "$GREETING"', 'ignored'], (s) => {
    s.process!.env!.push('GREETING=hello world');
    s.process!.cwd = '/tmp';
  });
  t.equal(r.code, 0, r.stderr);
  t.same(r.stdout.trim().split('\n'), ['/tmp', 'hello world']);
});

t.test('exit status and death by signal are reported as runc does', async (t) => {
  t.equal((await runIn(['/bin/sh', '-c', 'exit 42'])).code, 42);
  // pid 1 ignores signals it has no handler for, except SIGKILL: the shell kills a child instead
  t.equal((await runIn(['/bin/sh', '-c', 'sleep 100 & kill -KILL $!; wait $!'])).code, 128 + 9);
});

t.test('personality LINUX32 makes uname report a 32-bit machine', async (t) => {
  const r = await runIn(['/bin/uname', '-m'], (s) => { s.linux!.personality = { domain: 'LINUX32' }; });
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout.trim(), /^i[3-6]86$/);
});

t.test('a cgroup mount shows the container\'s own cgroups, read-only', async (t) => {
  const r = await runIn(['/bin/sh', '-c', 'ls /sys/fs/cgroup | sort | tr "\\n" " "; echo; cat /sys/fs/cgroup/pids/cgroup.procs | wc -l; touch /sys/fs/cgroup/pids/x 2>/dev/null && echo writable || echo readonly'], (s) => {
    s.mounts!.push({ destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'] });
    s.linux!.namespaces!.push({ type: 'cgroup' });
  });
  t.equal(r.code, 0, r.stderr);
  const [names, procs, rw] = r.stdout.trim().split('\n');
  for (const ctrl of ['cpu', 'memory', 'pids', 'freezer']) t.match(names, new RegExp(`\\b${ctrl}\\b`), `${ctrl} is mounted`);
  t.ok(Number(procs) >= 1 && Number(procs) <= 4, `only the container's processes in its pids cgroup (${procs})`);
  t.equal(rw, 'readonly');
});

t.test('seccomp without no_new_privs as a non-root user: loaded while still privileged', async (t) => {
  const r = await runIn(['/bin/sh', '-c', 'id -u; mkdir /tmp/x-$$ 2>&1; echo "mkdir=$?"'], (s) => {
    s.process!.user = { uid: 1000, gid: 1000 };
    s.process!.noNewPrivileges = false;
    s.linux!.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }] };
  });
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /^1000\n/);
  t.match(r.stdout, /mkdir=1/);
  t.match(r.stdout, /Operation not permitted/);
});

t.test('an OCI mount of type overlay in a plain bundle', async (t) => {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-ovl-'));
  t.teardown(() => fs.rmSync(base, { recursive: true, force: true }));
  for (const d of ['lower', 'upper', 'work']) fs.mkdirSync(path.join(base, d));
  fs.writeFileSync(path.join(base, 'lower', 'from-lower'), 'lower\n');
  const r = await runIn(['/bin/sh', '-c', 'cat /merged/from-lower; echo new > /merged/written; grep " /merged " /proc/self/mountinfo | grep -c overlay'], (s) => {
    s.mounts!.push({ destination: '/merged', type: 'overlay', source: 'overlay',
      options: [`lowerdir=${base}/lower`, `upperdir=${base}/upper`, `workdir=${base}/work`] });
  });
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stdout, 'lower\n1\n');
  t.equal(fs.readFileSync(path.join(base, 'upper', 'written'), 'utf8'), 'new\n', 'the write landed in the upper dir');
  t.notOk(fs.existsSync(path.join(base, 'lower', 'written')), 'the lower dir is untouched');
});
