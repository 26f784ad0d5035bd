import t from 'tap';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { programDir } from '../helpers/frontend';

// libcni driving the reference plugins (Debian's containernetworking-plugins in /usr/lib/cni) with
// berth-ipam as the bridge's IPAM. Two namespaces: HOST plays the host (the plugins run there, the
// bridge and portmap's rules land there), CTR is the container. Nothing runs in the root namespace:
// libcni runs in a child started by `nsenter --net=HOST`; if nsenter fails, nothing runs at all.
const ROOT = path.resolve(__dirname, '..', '..', '..');
const HOST = `berth-libcni-host-${process.pid}`;
const CTR = `berth-libcni-ctr-${process.pid}`;
const LIBCNI = path.join(ROOT, 'dist', 'lib', 'cni', 'libcni', 'index.js');

const DRIVER = `
const lib = require(${JSON.stringify(LIBCNI)});
const a = JSON.parse(process.argv[1]);
(async () => {
  const list = lib.loadNetworkList(a.file || a.name, a.confDir);
  const ops = { add: () => lib.addNetworkList(list, a.rt), del: () => lib.delNetworkList(list, a.rt), check: () => lib.checkNetworkList(list, a.rt) };
  return ops[a.op]();
})().then((out) => console.log(JSON.stringify({ ok: true, out })), (e) => console.log(JSON.stringify({ ok: false, code: e.code, msg: e.message })));
`;

function sh(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

t.test('bridge + berth-ipam + tuning + portmap: ADD, CHECK, DEL, DEL again', async (t) => {
  t.setTimeout(5 * 60_000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-libcni-'));
  t.teardown(() => {
    for (const ns of [CTR, HOST]) {
      try { sh('ip', ['netns', 'del', ns]); } catch { /* already gone */ }
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });
  sh('ip', ['netns', 'add', HOST]);
  sh('ip', ['netns', 'add', CTR]);
  sh('ip', ['-n', HOST, 'link', 'set', 'lo', 'up']);

  const dataDir = path.join(dir, 'ipam');
  const confDir = path.join(dir, 'net.d');
  fs.mkdirSync(confDir);
  fs.writeFileSync(path.join(confDir, '10-lab.conflist'), JSON.stringify({
    cniVersion: '1.0.0',
    name: 'berthlab',
    plugins: [
      { type: 'bridge', bridge: 'berthbr0', isGateway: true, ipMasq: false,
        ipam: { type: 'berth-ipam', dataDir, ranges: [[{ subnet: '10.99.0.0/24' }], [{ subnet: 'fd99::/64' }]], routes: [{ dst: '0.0.0.0/0' }] } },
      { type: 'tuning', capabilities: { mac: true } },
      { type: 'portmap', capabilities: { portMappings: true } },
    ],
  }));
  // a private copy of the addon: a concurrent `node-gyp rebuild` in the tree must not break the run
  const addon = path.join(dir, 'berth_native.node');
  fs.copyFileSync(path.join(ROOT, 'native', 'build', 'Release', 'berth_native.node'), addon);
  const rt = {
    containerId: 'lab1', netns: `/run/netns/${CTR}`, ifname: 'eth0',
    capabilityArgs: { mac: '02:42:0a:63:00:09', portMappings: [{ hostPort: 18080, containerPort: 80, protocol: 'tcp' }] },
    cniPath: ['/usr/lib/cni', programDir()], cacheDir: path.join(dir, 'cache'),
  };
  // portmap 1.1.1's CHECK looks for IPv4 rules in ip6tables and fails (containernetworking/plugins#819):
  // CHECK runs the same network (same name, same cached result) without portmap
  const checkFile = path.join(dir, 'check.conflist');
  const lab = JSON.parse(fs.readFileSync(path.join(confDir, '10-lab.conflist'), 'utf8'));
  fs.writeFileSync(checkFile, JSON.stringify({ ...lab, plugins: lab.plugins.slice(0, 2) }));
  const run = (op: string, file?: string): { ok: boolean; out?: { ips?: { address: string }[]; interfaces?: { name: string; sandbox?: string }[] }; code?: number; msg?: string } =>
    JSON.parse(execFileSync('nsenter', [`--net=/run/netns/${HOST}`, process.execPath, '-e', DRIVER, JSON.stringify({ op, name: 'berthlab', file, confDir, rt })],
      { encoding: 'utf8', env: { ...process.env, BERTH_NATIVE: addon } }));
  const allocations = () => (fs.existsSync(path.join(dataDir, 'berthlab')) ? fs.readdirSync(path.join(dataDir, 'berthlab')).filter((f) => !f.startsWith('last_')) : []);

  const add = run('add');
  t.ok(add.ok, add.msg ?? 'ADD succeeded');
  t.same(add.out?.ips?.map((i) => i.address), ['10.99.0.2/24', 'fd99::2/64']);
  t.ok(add.out?.interfaces?.some((i) => i.name === 'eth0' && i.sandbox === rt.netns), 'eth0 reported in the sandbox');
  const ctrAddr = sh('ip', ['-n', CTR, '-o', 'addr', 'show', 'dev', 'eth0']);
  t.match(ctrAddr, /inet 10\.99\.0\.2\/24/, 'the address is on eth0 in CTR');
  t.match(sh('ip', ['-n', CTR, '-o', 'link', 'show', 'dev', 'eth0']), /link\/ether 02:42:0a:63:00:09/, 'tuning got the mac capability');
  t.match(sh('ip', ['-n', HOST, '-o', 'addr', 'show', 'dev', 'berthbr0']), /inet 10\.99\.0\.1\/24/, 'gateway on the bridge in HOST');
  t.match(sh('ip', ['netns', 'exec', HOST, 'iptables-save', '-t', 'nat']), /--dport 18080/, 'portmap got the portMappings capability');
  sh('ip', ['netns', 'exec', CTR, 'ping', '-c', '1', '-W', '3', '10.99.0.1']);
  t.pass('CTR reaches the gateway through the veth and the bridge');
  t.same(allocations().sort(), ['10.99.0.2', 'fd99::2'], 'berth-ipam recorded the allocation');
  const cacheFile = path.join(rt.cacheDir, 'results', 'berthlab-lab1-eth0');
  t.equal(JSON.parse(fs.readFileSync(cacheFile, 'utf8')).kind, 'cniCacheV1');

  const check = run('check', checkFile);
  t.ok(check.ok, check.msg ?? 'CHECK succeeded');

  const del = run('del');
  t.ok(del.ok, del.msg ?? 'DEL succeeded');
  t.throws(() => sh('ip', ['-n', CTR, 'link', 'show', 'dev', 'eth0']), 'eth0 is gone');
  t.same(allocations(), [], 'the address is released');
  t.notOk(fs.existsSync(cacheFile), 'the cache entry is gone');
  t.notMatch(sh('ip', ['netns', 'exec', HOST, 'iptables-save', '-t', 'nat']), /--dport 18080/, 'port mapping removed');
  const again = run('del');
  t.ok(again.ok, again.msg ?? 'a second DEL succeeds');
});
