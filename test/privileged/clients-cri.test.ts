// The Kubernetes path: containerd 1.6's CRI plugin driven as a kubelet drives it, over gRPC (our own CRI
// client, test/helpers/cri.ts), with berth's CNI plugins (berth-bridge + berth-ipam + berth-portmap) and two
// runtime handlers: `runc` (the control) and `berth` (bin/berth as the runc shim's BinaryName). One pod per
// handler goes through the kubelet's calls, from RunPodSandbox with a hostPort to RemovePodSandbox; every
// observable is asserted for each handler and then compared: berth must see what runc sees.
// The whole file runs in a private mount and network namespace (the node); the pod is reached from a
// second namespace (the client) through a veth, at its IP and at the node's hostPort.
import { reexecIsolated } from '../helpers/isolate';
reexecIsolated({ net: true });

import t, { type Test } from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { BERTH } from '../helpers/run';
import { IMAGE } from '../helpers/containerd';
import { startCriContainerd, SANDBOX_IMAGE, type CriContainerd } from '../helpers/containerd-cri';
import { criClient, type CriClient, type ContainerConfig, type PodSandboxConfig } from '../helpers/cri';
import { cgroupParent, removeCgroupParent } from '../helpers/cgroup-parent';
import { createNetns, eventually, type TestNetns } from '../helpers/netns';
import { PAUSE } from '../helpers/pause-image';
import { requireTools } from '../helpers/tools';
import { programDir, stateEntries } from '../helpers/frontend';

const REPO_BIN = programDir();
const RUNC = '/usr/sbin/runc';
const HANDLERS = { runc: RUNC, berth: BERTH };
type Handler = keyof typeof HANDLERS;
const NETWORK = 'berth-cri';
const SUBNET = /^10\.89\.7\.(\d+)$/;
const NODE_IP = '192.168.207.1';
const HOST_PORT = 8090;
const POD_PORT = 8080;
const MEMORY_LIMIT = 64 * 1024 * 1024;
const WORKDIR = '/srv/app'; // not in the image: the runtime creates it

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-cri-'));
const ipamDir = path.join(dir, 'ipam');
const parent = cgroupParent(`berth-cri-${process.pid}`);
let containerd: CriContainerd | undefined;
let cri: CriClient;
let client: TestNetns | undefined;
const pods = new Set<string>(); // left to remove if a test is cut short

t.before(async () => {
  requireTools(['containerd', 'ctr', RUNC, 'ip', 'nft', 'nsenter', 'busybox', 'mount', '/usr/lib/cni/loopback', PAUSE]);
  fs.mkdirSync(ipamDir);
  containerd = await startCriContainerd(dir, {
    handlers: HANDLERS,
    conflist: {
      // containerd 1.6 vendors libcni 1.1, which speaks up to CNI 1.0.0
      cniVersion: '1.0.0', name: NETWORK,
      plugins: [
        { type: 'berth-bridge', bridge: 'cribr0', isGateway: true, ipMasq: true,
          ipam: { type: 'berth-ipam', ranges: [[{ subnet: '10.89.7.0/24' }]], routes: [{ dst: '0.0.0.0/0' }], dataDir: ipamDir } },
        { type: 'berth-portmap', capabilities: { portMappings: true } },
      ],
    },
    cniPlugins: {
      'berth-bridge': path.join(REPO_BIN, 'berth-bridge'), 'berth-ipam': path.join(REPO_BIN, 'berth-ipam'),
      'berth-portmap': path.join(REPO_BIN, 'berth-portmap'), loopback: '/usr/lib/cni/loopback',
    },
  });
  cri = criClient(containerd.sock);
  // the client namespace: 192.168.207.2, routed to the pod subnet through the node
  client = createNetns('cri-client');
  execFileSync('ip', ['link', 'add', 'cri-up0', 'type', 'veth', 'peer', 'name', 'down0', 'netns', client.name]);
  execFileSync('ip', ['addr', 'add', `${NODE_IP}/24`, 'dev', 'cri-up0']);
  execFileSync('ip', ['link', 'set', 'cri-up0', 'up']);
  client.exec('ip', ['addr', 'add', '192.168.207.2/24', 'dev', 'down0']);
  client.exec('ip', ['link', 'set', 'down0', 'up']);
  client.exec('ip', ['route', 'add', '10.89.7.0/24', 'via', NODE_IP]);
  fs.writeFileSync('/proc/sys/net/ipv4/ip_forward', '1'); // this file's own network namespace
  // CRI reports NetworkReady once it has read the CNI config
  let conditions: Awaited<ReturnType<CriClient['status']>> = [];
  for (let i = 0; i < 50; i++) {
    conditions = await cri.status();
    if (conditions.length > 0 && conditions.every((c) => c.status)) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  if (!conditions.every((c) => c.status)) throw new Error(`CRI not ready: ${JSON.stringify(conditions)}`);
  // the CRI learns of imported images from containerd's events
  for (const image of [SANDBOX_IMAGE, IMAGE]) {
    for (let i = 0; i < 50 && !(await cri.imageStatus(image)); i++) await new Promise((r) => setTimeout(r, 100));
    if (!(await cri.imageStatus(image))) throw new Error(`CRI does not see the imported image ${image}`);
  }
});

t.teardown(async () => {
  for (const id of pods) {
    await cri?.stopPodSandbox(id).catch(() => undefined);
    await cri?.removePodSandbox(id).catch(() => undefined);
  }
  cri?.close();
  await containerd?.stop();
  client?.remove();
  removeCgroupParent(parent);
  // mounts under dir (rootfs overlays of an interrupted run) go before the directory does
  for (const m of mountPoints().filter((p) => p.startsWith(dir)).reverse()) {
    try { execFileSync('umount', ['-l', m]); } catch { /* gone with its parent */ }
  }
  fs.rmSync(dir, { recursive: true, force: true });
});

function mountPoints(): string[] {
  return fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter(Boolean).map((l) => l.split(' ')[4]);
}

const sh = (cmd: string): string => execFileSync('sh', ['-c', cmd], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
const entries = (d: string): string[] => (fs.existsSync(d) ? fs.readdirSync(d).sort() : []);

/** What is left that a pod could have left: each should be empty (or as it was before the pod). */
function leftovers(before: { mounts: string[] }, ids: string[], podIp: string) {
  const cgroups = fs.readdirSync('/sys/fs/cgroup').flatMap((ctrl) => {
    const d = path.join('/sys/fs/cgroup', ctrl, parent);
    return fs.existsSync(d) ? fs.readdirSync(d, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => `${ctrl}/${e.name}`) : [];
  });
  const ruleset = sh('nft list ruleset');
  return {
    'IPAM allocations': entries(path.join(ipamDir, NETWORK)).filter((f) => /^[0-9.]+$/.test(f)),
    veths: sh('ip -o link show type veth').split('\n').filter(Boolean).map((l) => l.split(':')[1].trim().split('@')[0]).filter((n) => n !== 'cri-up0'),
    'bridge ports': sh('ip -o link show master cribr0').split('\n').filter(Boolean),
    'nft rules naming the pod or its hostPort': ruleset.split('\n').filter((l) => [...ids, String(HOST_PORT), ...(podIp ? [podIp] : [])].some((x) => l.includes(x))),
    cgroups,
    mounts: mountPoints().filter((m) => !before.mounts.includes(m)),
    'pod network namespaces': entries('/run/netns').filter((n) => n !== client!.name),
    'runtime state (runc/berth --root)': (fs.existsSync('/run/containerd/runc/k8s.io') ? stateEntries('/run/containerd/runc/k8s.io').sort() : []),
    'shim task dirs': entries('/run/containerd/io.containerd.runtime.v2.task/k8s.io'),
    'CRI sandbox state': entries(path.join(containerd!.criState, 'sandboxes')),
    'CRI container state': entries(path.join(containerd!.criState, 'containers')),
    'CRI sandbox root': entries(path.join(containerd!.criRoot, 'sandboxes')),
    'CRI container root': entries(path.join(containerd!.criRoot, 'containers')),
    processes: fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
      try {
        const cmd = fs.readFileSync(`/proc/${p}/cmdline`, 'utf8');
        return ids.some((id) => cmd.includes(id));
      } catch {
        return false;
      }
    }),
  };
}

/** An HTTP GET from the client namespace (node's http: Debian's static busybox wget crashes resolving). */
function fetchFromClient(host: string, port: number): string {
  const code = `require('http').get({ host: '${host}', port: ${port}, path: '/', timeout: 3000 }, (res) => {` +
    `let d = ''; res.on('data', (c) => d += c); res.on('end', () => process.stdout.write(d)); })` +
    `.on('timeout', () => { console.error('timed out'); process.exit(2); }).on('error', (e) => { console.error(e.message); process.exit(1); });`;
  const r = client!.run(process.execPath, ['-e', code]);
  return r.status === 0 ? r.stdout : `GET failed: ${r.stderr.trim()}`;
}

function procStatus(pid: number, field: string): string {
  return fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(new RegExp(`^${field}:\\s*(.*)$`, 'm'))?.[1] ?? '';
}
function procEnv(pid: number, name: string): string | undefined {
  return fs.readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').find((e) => e.startsWith(`${name}=`))?.slice(name.length + 1);
}
function memoryCgroup(pid: number): string {
  const line = fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n').find((l) => l.split(':')[1]?.split(',').includes('memory'));
  return line ? line.split(':')[2] : '';
}

/** Everything a handler's pod showed, by name: what the test asserts and what it compares across handlers. */
type Observations = Record<string, unknown>;
const FAILED = Symbol('failed');
const observed: Partial<Record<Handler, Observations>> = {};

/** What Kubernetes users get from runc; the berth handler must show the same. */
const EXPECTED: Observations = {
  'RunPodSandbox': 'ok',
  'sandbox state': 'SANDBOX_READY',
  'sandbox runtime handler as asked': true,
  'pod IP in the subnet': true,
  'sandbox process': '/pause',
  'sandbox process uid': '65535',
  'sandbox process HOME': '/',
  'sandbox seccomp mode': '2',
  'CreateContainer': 'ok',
  'StartContainer': 'ok',
  'container state after start': 'CONTAINER_RUNNING',
  'exec: HOME, pwd, uid, seccomp': { stdout: `HOME=/root\n${WORKDIR}\n0\nSeccomp:\t2\n`, stderr: '', exitCode: 0 },
  'exec: main process HOME, env and cwd': { stdout: `GREETING=hi\nHOME=/root\n${WORKDIR}\n`, stderr: '', exitCode: 0 },
  'exec: stdout, stderr and exit code': { stdout: 'to-out\n', stderr: 'to-err\n', exitCode: 7 },
  'exec: memory limit inside': { stdout: `${MEMORY_LIMIT}\n`, stderr: '', exitCode: 0 },
  'container cgroup below the test\'s': true,
  'memory limit on the host': String(MEMORY_LIMIT),
  'ContainerStats fields': ['cpu.timestamp', 'cpu.usageCoreNanoSeconds', 'memory.timestamp', 'memory.workingSetBytes', 'writableLayer.usedBytes', 'writableLayer.inodesUsed'],
  'ContainerStats cpu and memory used': true,
  'pod reachable at its IP': 'pod-ok\n',
  'pod reachable at the hostPort': 'pod-ok\n',
  'StopContainer': 'ok',
  'container state, exit code and reason after stop': ['CONTAINER_EXITED', 42, 'Error'],
  'RemoveContainer': 'ok',
  'StopPodSandbox': 'ok',
  'RemovePodSandbox': 'ok',
  'left behind': Object.fromEntries(['IPAM allocations', 'veths', 'bridge ports', 'nft rules naming the pod or its hostPort', 'cgroups',
    'mounts', 'pod network namespaces', 'runtime state (runc/berth --root)', 'shim task dirs', 'CRI sandbox state', 'CRI container state',
    'CRI sandbox root', 'CRI container root', 'processes'].map((k) => [k, []])),
};

async function podLifecycle(t: Test, handler: Handler): Promise<void> {
  const obs: Observations = {};
  observed[handler] = obs;
  const before = { mounts: mountPoints() };
  /** runs a kubelet call; a failure is recorded as the observation (and fails its assertion) */
  const took: string[] = [];
  const call = async <T>(name: string, fn: () => Promise<T>): Promise<T | typeof FAILED> => {
    const t0 = Date.now();
    try {
      const r = await fn();
      took.push(`${name} ${Date.now() - t0} ms`);
      obs[name] = 'ok';
      return r;
    } catch (e) {
      obs[name] = `failed: ${(e as Error).message}`;
      return FAILED;
    }
  };
  const check = (name: string, value: unknown) => {
    obs[name] = value;
  };

  const sandboxConfig: PodSandboxConfig = {
    metadata: { name: `web-${handler}`, uid: `uid-${handler}-${process.pid}`, namespace: 'berth-cri', attempt: 0 },
    hostname: `web-${handler}`,
    portMappings: [{ protocol: 'TCP', containerPort: POD_PORT, hostPort: HOST_PORT }],
    linux: {
      cgroupParent: parent,
      securityContext: { namespaceOptions: { network: 'POD', pid: 'CONTAINER', ipc: 'POD' }, seccomp: { profileType: 'RuntimeDefault' } },
    },
  };
  const podId = await call('RunPodSandbox', () => cri.runPodSandbox(sandboxConfig, handler));
  let podIp = '';
  const ids = podId !== FAILED ? [podId] : [];
  if (podId !== FAILED) {
    pods.add(podId);
    const status = await cri.podSandboxStatus(podId);
    check('sandbox state', status.state);
    check('sandbox runtime handler as asked', status.runtimeHandler === handler);
    podIp = status.network?.ip ?? '';
    check('pod IP in the subnet', SUBNET.test(podIp));
    const pid = Number((await cri.podSandboxInfo(podId)).pid);
    // `start` returns once the process is told to go: it may not have exec'd the image's program yet
    const argv0 = () => fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0];
    await eventually(() => argv0() === '/pause', 3000);
    check('sandbox process', argv0());
    check('sandbox process uid', procStatus(pid, 'Uid').split(/\s+/)[0]);
    check('sandbox process HOME', procEnv(pid, 'HOME'));
    check('sandbox seccomp mode', procStatus(pid, 'Seccomp'));

    const config: ContainerConfig = {
      metadata: { name: 'web', attempt: 0 },
      image: { image: IMAGE },
      // sh as the container's PID 1 ends on SIGTERM with status 42, so StopContainer's exit code is the program's
      command: ['/bin/sh', '-c', 'trap "exit 42" TERM; echo pod-ok > index.html; httpd -f -p 8080 -h . & wait'],
      workingDir: WORKDIR,
      envs: [{ key: 'GREETING', value: 'hi' }], // no HOME: the runtime sets it
      linux: {
        resources: { memoryLimitInBytes: MEMORY_LIMIT },
        securityContext: { namespaceOptions: { network: 'POD', pid: 'CONTAINER', ipc: 'POD' }, seccomp: { profileType: 'RuntimeDefault' } },
      },
    };
    const cid = await call('CreateContainer', () => cri.createContainer(podId, config, sandboxConfig));
    if (cid !== FAILED) {
      ids.push(cid);
      const started = await call('StartContainer', () => cri.startContainer(cid));
      check('container state after start', (await cri.containerStatus(cid)).state);
      if (started !== FAILED) {
        const exec = async (name: string, cmd: string[]) => check(name, await cri.execSync(cid, cmd).catch((e: Error) => `failed: ${e.message}`));
        await exec('exec: HOME, pwd, uid, seccomp', ['sh', '-c', 'echo HOME=$HOME; pwd; id -u; grep "^Seccomp:" /proc/self/status']);
        await exec('exec: main process HOME, env and cwd', ['sh', '-c', 'tr "\\0" "\\n" < /proc/1/environ | grep -E "^(HOME|GREETING)=" | sort; readlink /proc/1/cwd']);
        await exec('exec: stdout, stderr and exit code', ['sh', '-c', 'echo to-out; echo to-err >&2; exit 7']);
        await exec('exec: memory limit inside', ['sh', '-c', 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max']);

        const cpid = Number((await cri.containerInfo(cid)).pid);
        const cg = memoryCgroup(cpid);
        check('container cgroup below the test\'s', cg.startsWith(`${parent}/`));
        const limitFile = ['memory.limit_in_bytes', 'memory.max'].map((f) => path.join('/sys/fs/cgroup/memory', cg, f)).find((f) => fs.existsSync(f));
        check('memory limit on the host', limitFile ? fs.readFileSync(limitFile, 'utf8').trim() : 'no memory cgroup');

        // the writable layer's usage appears after the CRI's next snapshot scan (every second here; a
        // loaded machine takes longer)
        let stats = await cri.containerStats(cid);
        // (a scan from before the container wrote anything reports zero)
        const layerUsed = () => (stats.writableLayer?.usedBytes?.value ?? 0) > 0 && (stats.writableLayer?.inodesUsed?.value ?? 0) > 0;
        for (const end = Date.now() + 15_000; !layerUsed() && Date.now() < end;) {
          await new Promise((r) => setTimeout(r, 100));
          stats = await cri.containerStats(cid);
        }
        const present = (['cpu', 'memory', 'writableLayer'] as const).flatMap((group) => {
          const g = stats[group] as Record<string, unknown> | null;
          return g ? Object.entries(g).filter(([, v]) => v !== null && v !== 0 && (typeof v !== 'object' || (v as { value: number }).value > 0)).map(([k]) => `${group}.${k}`) : [];
        });
        // only what a kubelet reads, in a fixed order: fields containerd leaves out on this host do not count
        check('ContainerStats fields', (EXPECTED['ContainerStats fields'] as string[]).filter((f) => present.includes(f)));
        check('ContainerStats cpu and memory used', (stats.cpu?.usageCoreNanoSeconds?.value ?? 0) > 0 && (stats.memory?.workingSetBytes?.value ?? 0) > 0);

        // httpd may still be starting: wait for the first answer
        await eventually(() => fetchFromClient(podIp, POD_PORT) === 'pod-ok\n', 5000);
        check('pod reachable at its IP', fetchFromClient(podIp, POD_PORT));
        check('pod reachable at the hostPort', fetchFromClient(NODE_IP, HOST_PORT));
        if (obs['pod reachable at its IP'] !== 'pod-ok\n' || obs['pod reachable at the hostPort'] !== 'pod-ok\n') {
          t.comment(`node routes:\n${sh('ip route')}\nnft ruleset:\n${sh('nft list ruleset')}`);
        }

        await call('StopContainer', () => cri.stopContainer(cid, 10));
        const stopped = await cri.containerStatus(cid);
        check('container state, exit code and reason after stop', [stopped.state, stopped.exitCode, stopped.reason]);
      }
      await call('RemoveContainer', () => cri.removeContainer(cid));
    }
    await call('StopPodSandbox', () => cri.stopPodSandbox(podId));
    if (await call('RemovePodSandbox', () => cri.removePodSandbox(podId)) !== FAILED) pods.delete(podId);
  }
  // shims exit and the kernel frees devices asynchronously
  await eventually(() => Object.values(leftovers(before, ids, podIp)).every((v) => v.length === 0), 5000);
  check('left behind', leftovers(before, ids, podIp));

  for (const [name, want] of Object.entries(EXPECTED)) t.same(obs[name], want, `${handler}: ${name}`);
  t.comment(`${handler}: ${took.join(', ')}`);
  // a failed call's cause is often only in containerd's log (the runtime's own stderr)
  if (Object.values(obs).some((v) => typeof v === 'string' && v.startsWith('failed'))) {
    const log = fs.readFileSync(containerd!.log, 'utf8').split('\n').filter((l) => /level=(error|warning)/.test(l));
    t.comment(`containerd's errors and warnings:\n${log.slice(-15).join('\n')}`);
  }
}

t.test('the runc handler (the control): a pod through every kubelet call, and nothing left', async (t) => {
  await podLifecycle(t, 'runc');
});

t.test('the berth handler: the same pod, the same calls, and nothing left', async (t) => {
  await podLifecycle(t, 'berth');
});

t.test('berth shows what runc shows, observable by observable', async (t) => {
  const runc = observed.runc ?? {};
  const berth = observed.berth ?? {};
  for (const name of Object.keys(EXPECTED)) {
    // a step the control never reached compares nothing: that is a failure of its own, not a match
    if (runc[name] === undefined) t.fail(`${name}: the runc handler did not get this far`);
    else t.same(berth[name], runc[name], `${name}: berth as runc`);
  }
});
