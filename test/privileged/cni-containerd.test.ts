// containerd 1.6 (`ctr run --cni`) attaches a busybox container with berth's CNI plugins: berth-bridge
// delegating to berth-ipam, plus the reference loopback that ctr always adds. The whole file runs in a
// private mount and network namespace (the node); ctr reads /etc/cni/net.d and /opt/cni/bin, so temp
// dirs are mounted over those paths inside that mount namespace only.
import { reexecIsolated } from '../helpers/isolate';
reexecIsolated({ net: true });

import t from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync, spawn } from 'node:child_process';
import { BERTH } from '../helpers/run';
import { IMAGE, startContainerd, type Containerd } from '../helpers/containerd';
import { cgroupParent, removeCgroupParent } from '../helpers/cgroup-parent';
import { programDir } from '../helpers/frontend';

const NETWORK = 'ctrnet';
const SUBNET_RE = /10\.89\.3\.(\d+)\/24/;
const REPO_BIN = programDir();
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-ctr-cni-'));
const ipamDir = path.join(dir, 'ipam');
const shared = path.join(dir, 'shared'); // bind-mounted into the container: the test's "go on" signal
const parent = cgroupParent(`berth-ctrcni-${process.pid}`);
let containerd: Containerd | undefined;

const ctrArgs = (args: string[]): string[] => containerd!.args(args);
const ctr: Containerd['ctr'] = (args, timeoutMs) => containerd!.ctr(args, timeoutMs);

function allocations(): Map<string, string> {
  const d = path.join(ipamDir, NETWORK);
  const out = new Map<string, string>();
  if (!fs.existsSync(d)) return out;
  for (const f of fs.readdirSync(d)) {
    if (/^[0-9.]+$/.test(f)) out.set(f, fs.readFileSync(path.join(d, f), 'utf8'));
  }
  return out;
}

function links(): string {
  // ip complains on stderr about veth peers in other namespaces; only the list matters
  return execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
}

t.before(async () => {
  // ctr's CNI paths, for this mount namespace only. /opt/cni does not exist on the host: a tmpfs over /opt
  // gives us a place for it without creating anything in the real /opt.
  const conf = path.join(dir, 'net.d');
  fs.mkdirSync(conf);
  fs.mkdirSync(ipamDir);
  fs.mkdirSync(shared);
  fs.writeFileSync(path.join(conf, '10-berth.conflist'), JSON.stringify({
    // containerd 1.6 vendors libcni 1.1, which speaks up to CNI 1.0.0
    cniVersion: '1.0.0',
    name: NETWORK,
    plugins: [{
      type: 'berth-bridge', bridge: 'ctrbr0', isGateway: true, isDefaultGateway: true,
      ipam: { type: 'berth-ipam', ranges: [[{ subnet: '10.89.3.0/24' }]], dataDir: ipamDir },
    }],
  }));
  execFileSync('mount', ['--bind', conf, '/etc/cni/net.d']);
  execFileSync('mount', ['-t', 'tmpfs', 'tmpfs', '/opt']);
  fs.mkdirSync('/opt/cni/bin', { recursive: true });
  for (const p of ['berth-bridge', 'berth-ipam']) fs.symlinkSync(path.join(REPO_BIN, p), path.join('/opt/cni/bin', p));
  fs.symlinkSync('/usr/lib/cni/loopback', '/opt/cni/bin/loopback');

  containerd = await startContainerd(dir);
});

t.teardown(async () => {
  await containerd?.stop();
  removeCgroupParent(parent);
  // the mounts vanish with this process's mount namespace; the temp dir is ours to remove
  fs.rmSync(dir, { recursive: true, force: true });
});

t.test('ctr run --cni: the container has the address berth-ipam allocated, and DEL releases it', async (t) => {
  const id = 'cni1';
  // The container shows its eth0 and routes, pings the gateway on the bridge, then waits for the test to
  // have looked at the node's side (the allocation only exists while the container runs).
  const script = [
    'ip -o -4 addr show eth0', 'ip route', 'ping -c 1 -W 2 10.89.3.1 >/dev/null && echo PING-OK',
    'echo READY', 'i=0; while [ ! -e /shared/go ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done',
  ].join('; ');
  const child = spawn('ctr', ctrArgs(['run', '--cni', '--rm', '--runc-binary', BERTH, '--cgroup', `${parent}/${id}`,
    '--mount', `type=bind,src=${shared},dst=/shared,options=rbind:rw`, IMAGE, id, '/bin/sh', '-c', script]));
  let stdout = '', stderr = '';
  child.stdout!.on('data', (d: Buffer) => { stdout += d.toString(); });
  child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
  const exited = new Promise<number>((r) => child.on('close', (c) => r(c ?? 1)));
  // never leave the container waiting, whatever fails below
  t.teardown(() => { fs.writeFileSync(path.join(shared, 'go'), ''); return exited; });

  for (let i = 0; i < 600 && !stdout.includes('READY') && child.exitCode === null; i++) await new Promise((r) => setTimeout(r, 100));
  t.match(stdout, /READY/, `container got going (stderr: ${stderr})`);

  const m = SUBNET_RE.exec(stdout);
  t.ok(m, `eth0 has an address in the subnet: ${stdout}`);
  const inContainer = m ? `10.89.3.${m[1]}` : '';
  const alloc = allocations();
  t.same([...alloc.keys()], [inContainer], 'exactly one allocation on disk, the container\'s address');
  // ctr names the attachment <namespace>-<container id>; berth-ipam stores "containerID\r\nifname"
  t.equal(alloc.get(inContainer), `berth-${id}\r\neth0`);
  t.match(stdout, /default via 10\.89\.3\.1 dev eth0/, 'bridge is the gateway');
  t.match(stdout, /PING-OK/, 'container reaches the gateway address on the bridge');
  t.match(execFileSync('ip', ['-o', '-4', 'addr', 'show', 'ctrbr0'], { encoding: 'utf8' }), /10\.89\.3\.1\/24/);
  t.match(links(), /master ctrbr0/, 'a host veth is a port of the bridge');

  fs.writeFileSync(path.join(shared, 'go'), '');
  t.equal(await exited, 0, stderr);
  // --rm makes ctr call CNI DEL (with no netns: the task is gone by then)
  t.equal(allocations().size, 0, 'DEL released the allocation');
  t.notMatch(links(), /master ctrbr0/, 'no port left on the bridge');
  t.notMatch((await ctr(['containers', 'ls', '-q'])).stdout, new RegExp(id));
});

t.test('a second container gets the next address (round robin), not the released one', async (t) => {
  const r = await ctr(['run', '--cni', '--rm', '--runc-binary', BERTH, '--cgroup', `${parent}/cni2`, IMAGE, 'cni2', 'ip', '-o', '-4', 'addr', 'show', 'eth0']);
  t.equal(r.code, 0, r.stderr);
  const m = SUBNET_RE.exec(r.stdout);
  t.ok(m, r.stdout);
  const last = fs.readFileSync(path.join(ipamDir, NETWORK, 'last_reserved_ip.0'), 'utf8').trim();
  t.equal(m ? `10.89.3.${m[1]}` : '', last, 'the address in the container is the one berth-ipam last reserved');
  t.equal(last, '10.89.3.3', 'first container had .2, this one .3');
  t.equal(allocations().size, 0);
});
