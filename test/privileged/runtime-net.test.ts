// `berth run --net`: containers attached to a berth-bridge network (berth-ipam) inside a node namespace
// the test creates; they reach each other, get /etc/hosts, and delete releases everything.
import t from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { BERTH, bundle } from '../helpers/run';
import { createNetns } from '../helpers/netns';
import { uniqueId } from '../helpers/bundle';
import { programDir } from '../helpers/frontend';

const BIN = programDir();

/** Runs the berth CLI inside the node's network namespace (nsenter keeps /sys and cgroups visible). */
function berthIn(netns: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-cli-'));
  const out = fs.openSync(path.join(dir, 'out'), 'w+');
  const err = fs.openSync(path.join(dir, 'err'), 'w+');
  return new Promise((resolve) => {
    const child = spawn('nsenter', [`--net=${netns}`, BERTH, ...args], { stdio: ['ignore', out, err] });
    child.on('exit', (code) => {
      const r = { code: code ?? 1, stdout: fs.readFileSync(path.join(dir, 'out'), 'utf8'), stderr: fs.readFileSync(path.join(dir, 'err'), 'utf8') };
      fs.closeSync(out); fs.closeSync(err);
      fs.rmSync(dir, { recursive: true, force: true });
      resolve(r);
    });
  });
}

t.test('two containers on a berth-bridge network reach each other; delete releases addresses', async (t) => {
  const node = createNetns('runnet');
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-net-'));
  const b = bundle(['/bin/sleep', '1000']);
  const ids = [uniqueId('net'), uniqueId('net')];
  const g = ['--root', b.root];
  t.teardown(async () => {
    for (const id of ids) await berthIn(node.path, [...g, 'delete', '--force', id]);
    b.cleanup();
    node.remove();
    fs.rmSync(work, { recursive: true, force: true });
  });
  const dataDir = path.join(work, 'ipam');
  const conf = path.join(work, 'testnet.conflist');
  fs.writeFileSync(conf, JSON.stringify({
    cniVersion: '1.1.0', name: 'testnet',
    plugins: [{ type: 'berth-bridge', bridge: 'bt0', isGateway: true, ipam: { type: 'berth-ipam', subnet: '10.77.0.0/24', dataDir } }],
  }));
  const net = ['--net', conf, '--cni-path', BIN];
  for (const id of ids) {
    const r = await berthIn(node.path, [...g, 'run', '-d', ...net, '--bundle', b.dir, id]);
    t.equal(r.code, 0, r.stderr);
  }
  const addr = async (id: string) => (await berthIn(node.path, [...g, 'exec', id, '/bin/sh', '-c', "ip -4 -o addr show eth0 | awk '{print $4}'"])).stdout.trim();
  const a0 = await addr(ids[0]);
  const a1 = await addr(ids[1]);
  t.match(a0, /^10\.77\.0\.\d+\/24$/);
  t.match(a1, /^10\.77\.0\.\d+\/24$/);
  t.not(a0, a1);
  const ping = await berthIn(node.path, [...g, 'exec', '--cap', 'CAP_NET_RAW', ids[0], '/bin/ping', '-c', '1', '-W', '2', a1.split('/')[0]]);
  t.equal(ping.code, 0, `container 0 pings container 1: ${ping.stdout}${ping.stderr}`);
  const gw = await berthIn(node.path, [...g, 'exec', '--cap', 'CAP_NET_RAW', ids[1], '/bin/ping', '-c', '1', '-W', '2', '10.77.0.1']);
  t.equal(gw.code, 0, 'and the gateway');
  const hosts = await berthIn(node.path, [...g, 'exec', ids[0], '/bin/cat', '/etc/hosts']);
  t.match(hosts.stdout, new RegExp(`${a0.split('/')[0]}\\s+berth`), '/etc/hosts names the container\'s address');
  const allocated = () => fs.readdirSync(path.join(dataDir, 'testnet')).filter((f) => /^\d+\.\d+\.\d+\.\d+$/.test(f));
  t.equal(allocated().length, 2);
  for (const id of ids) t.equal((await berthIn(node.path, [...g, 'delete', '--force', id])).code, 0);
  t.same(allocated(), [], 'delete released both addresses');
  t.equal(node.run('ip', ['-o', 'link', 'show', 'type', 'veth']).stdout.trim(), '', 'no host veth left');
});

t.test('--net without a network namespace is refused before anything is made', async (t) => {
  const b = bundle(['/bin/true'], (s) => { s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'network'); });
  t.teardown(() => b.cleanup());
  const id = uniqueId('nonet');
  const node = createNetns('nonet');
  t.teardown(() => node.remove());
  const r = await berthIn(node.path, ['--root', b.root, 'run', '--net', '/nonexistent.conflist', '--bundle', b.dir, id]);
  t.equal(r.code, 1);
  t.match(r.stderr, /--net: attaching networks needs a network namespace/);
  t.notOk(fs.existsSync(path.join(b.root, id)));
});
