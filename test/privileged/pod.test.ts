// `berth pod`: a pause container (berth-pause) holds a pod's net, ipc, uts and (shared) pid namespaces;
// members created with --pod join them. Everything runs inside a network namespace the test creates
// (berth through nsenter --net), so the pod's bridge, veths and nft rules never touch the root namespace.
import t from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { BERTH, bundle, command, leftovers } from '../helpers/run';
import { createNetns, eventually, type TestNetns } from '../helpers/netns';
import { uniqueId } from '../helpers/bundle';
import { expectOneLineErrors } from '../helpers/one-line-errors';
import { programDir, stateEntries } from '../helpers/frontend';

const BIN = programDir();

const berthIn = (ns: TestNetns, args: string[]) => command('nsenter', [`--net=${ns.path}`, BERTH, ...args]);

/** Host pids whose parent is `ppid` and whose command is `comm`. */
function childrenOf(ppid: number, comm: string): number[] {
  const out: number[] = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const ppidOf = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppidOf === ppid && name === comm) out.push(Number(d));
    } catch { /* exited meanwhile */ }
  }
  return out;
}

function procState(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
  } catch {
    return undefined;
  }
}

t.test('two containers of a shared-pid pod: localhost, hostname, IPC, a reaped orphan; rm leaves nothing', async (t) => {
  const node = createNetns('pods-plugins-pod');
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'pods-plugins-pod-'));
  const root = path.join(work, 'state');
  const b = bundle(['/bin/sleep', '1000']);
  const pod = uniqueId('pod').replace(/[^a-zA-Z0-9_-]/g, '-');
  const ids = [uniqueId('podc'), uniqueId('podc')];
  const g = ['--root', root];
  t.teardown(async () => {
    await berthIn(node, [...g, 'pod', 'rm', pod]);
    for (const id of ids) await berthIn(node, [...g, 'delete', '--force', id]);
    b.cleanup();
    node.remove();
    fs.rmSync(work, { recursive: true, force: true });
  });
  const dataDir = path.join(work, 'ipam');
  const conf = path.join(work, 'podnet.conflist');
  fs.writeFileSync(conf, JSON.stringify({
    cniVersion: '1.1.0', name: 'podnet',
    plugins: [{ type: 'berth-bridge', bridge: 'pp0', isGateway: true, ipMasq: true, ipam: { type: 'berth-ipam', subnet: '10.78.0.0/24', dataDir } }],
  }));
  const created = await berthIn(node, [...g, 'pod', 'create', '--net', conf, '--cni-path', BIN, '--share-pid', pod]);
  t.equal(created.code, 0, created.stderr);
  const info = JSON.parse((await berthIn(node, [...g, 'pod', 'inspect', pod])).stdout);
  t.equal(info.status, 'running');
  t.match(info.ips[0], /^10\.78\.0\.\d+$/, 'one CNI ADD for the pod: its address');
  const pausePid: number = info.pid;
  t.equal(fs.readlinkSync(`/proc/${pausePid}/exe`).endsWith('/pause'), true, 'the pod holder is berth-pause');
  for (const id of ids) {
    const r = await berthIn(node, [...g, 'run', '-d', '--pod', pod, '--bundle', b.dir, id]);
    t.equal(r.code, 0, r.stderr);
  }
  const exec = (id: string, ...args: string[]) => berthIn(node, [...g, 'exec', id, ...args]);

  // net: the pod's one eth0 and loopback; container 0 listens on localhost, container 1 connects
  t.equal((await exec(ids[1], '/bin/sh', '-c', "ip -4 -o addr show eth0 | awk '{print $4}'")).stdout.trim(), `${info.ips[0]}/24`, 'members see the pod\'s interface');
  const server = exec(ids[0], '/bin/sh', '-c', 'echo hello-from-0 | nc -l -p 7070');
  let answer = '';
  t.ok(await eventually(() => {
    answer = execFileSync('nsenter', [`--net=${node.path}`, BERTH, ...g, 'exec', ids[1], '/bin/sh', '-c', 'nc 127.0.0.1 7070 </dev/null || true'], { encoding: 'utf8' });
    return answer.includes('hello-from-0');
  }, 5000), `container 1 reads container 0 over localhost: ${answer}`);
  await server;

  // uts: one hostname, the pod's name
  t.equal((await exec(ids[0], '/bin/hostname')).stdout.trim(), pod);
  t.equal((await exec(ids[1], '/bin/hostname')).stdout.trim(), pod);

  // ipc: a SysV shared memory segment made in container 0's ipc namespace is listed in container 1's
  const pid0 = JSON.parse((await berthIn(node, [...g, 'state', ids[0]])).stdout).pid;
  const made = execFileSync('nsenter', [`--ipc=/proc/${pid0}/ns/ipc`, 'ipcmk', '-M', '4096'], { encoding: 'utf8' });
  const shmid = made.match(/(\d+)\s*$/)![1];
  const shm = (await exec(ids[1], '/bin/cat', '/proc/sysvipc/shm')).stdout;
  t.ok(shm.split('\n').some((l) => l.trim().split(/\s+/)[1] === shmid), `shm ${shmid} seen by container 1`);
  t.notOk(fs.readFileSync('/proc/sysvipc/shm', 'utf8').split('\n').some((l) => l.trim().split(/\s+/)[1] === shmid && l.includes(' 4096 ')), 'not the host\'s ipc namespace');

  // pid: pause is PID 1 of both; an orphan is adopted by pause and reaped when it exits (no zombie)
  const ps = (await exec(ids[1], '/bin/ps', '-o', 'pid,comm')).stdout;
  t.match(ps, /^\s*1\s+pause$/m, 'pause is PID 1 in the members\' pid namespace');
  t.match(ps, /sleep/, 'container 1 sees container 0\'s sleep');
  await exec(ids[0], '/bin/sh', '-c', '/bin/sleep 1 & echo started');
  let orphans: number[] = [];
  t.ok(await eventually(() => (orphans = childrenOf(pausePid, 'sleep')).length > 0, 2000), 'the orphaned sleep is re-parented to pause');
  const orphan = orphans[0];
  t.ok(await eventually(() => procState(orphan) === undefined, 5000), `the orphan ${orphan} was reaped (last state: ${procState(orphan)})`);

  // rm: members stopped first, then pause and the pod's DEL; nothing left
  const pauseCgroups = leftovers(root, `${pod}.pause`).filter((l) => l.startsWith('cgroup'));
  t.ok(pauseCgroups.length > 0, 'the pause container had cgroups (what the leftover check looks for)');
  const rm = await berthIn(node, [...g, 'pod', 'rm', pod]);
  t.equal(rm.code, 0, rm.stderr);
  t.equal((await berthIn(node, [...g, 'list', '-q'])).stdout, '', 'no containers left');
  t.equal((await berthIn(node, [...g, 'pod', 'ls', '-q'])).stdout, '', 'no pods left');
  t.same(stateEntries(root), [], 'the state root is empty');
  for (const id of [...ids, `${pod}.pause`]) t.same(leftovers(root, id), [], `nothing left of ${id}`);
  t.same(fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(work)), [], 'no mounts under the test dir');
  const allocated = fs.readdirSync(path.join(dataDir, 'podnet')).filter((f) => /^\d+\.\d+\.\d+\.\d+$/.test(f));
  t.same(allocated, [], 'IPAM allocation released');
  t.equal(node.exec('ip', ['-o', 'link', 'show', 'type', 'veth']).trim(), '', 'no veth left');
  const nft = node.run('nft', ['list', 'ruleset']).stdout;
  t.notMatch(nft, new RegExp(`${pod}|10\\.78\\.0\\.`), 'no nft rule for the pod left');
});

t.test('bad input: one line naming the field, nothing made', async (t) => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'pods-plugins-bad-'));
  const root = path.join(work, 'state');
  t.teardown(() => fs.rmSync(work, { recursive: true, force: true }));
  const b = bundle(['/bin/true']);
  t.teardown(() => b.cleanup());
  const cases: [string[], RegExp][] = [
    [['pod', 'create', 'bad name!'], /^berth: NAME: invalid pod name/],
    [['pod', 'create'], /^berth: NAME: /],
    [['pod', 'create', '--network', 'bridgy', 'p1'], /^berth: --network: unknown mode "bridgy"/],
    [['pod', 'create', '--net', '/nonexistent.conflist', '--network', 'none', 'p1'], /^berth: --network: give --net or --network/],
    [['pod', 'inspect', 'nosuch'], /^berth: --pod: pod "nosuch" does not exist|^berth: NAME: /],
    [['pod', 'rm', 'nosuch'], /^berth: NAME: pod "nosuch" does not exist/],
    [['run', '--pod', 'nosuch', '--bundle', b.dir, 'x1'], /^berth: --pod: pod "nosuch" does not exist/],
  ];
  await expectOneLineErrors(t, root, cases);
  t.same(fs.existsSync(root) ? stateEntries(root) : [], [], 'nothing under the root');
});
