import t from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  addNetworkList, checkNetworkList, delNetworkList, gcNetworkList, getCachedResult, loadNetworkList,
  parseNetworkList, statusNetworkList, RuntimeConf,
} from '../../lib/cni/libcni';

// A fake plugin that logs each call (verb, env, stdin config) and, on ADD, appends an interface named
// after its type to prevResult, so the chain order and prevResult passing are visible.
const FAKE = `#!/usr/bin/env node
const fs = require('fs');
const conf = JSON.parse(fs.readFileSync(0, 'utf8'));
const e = process.env;
fs.appendFileSync(e.FAKE_LOG, JSON.stringify({ type: conf.type, cmd: e.CNI_COMMAND, id: e.CNI_CONTAINERID, ifname: e.CNI_IFNAME, netns: e.CNI_NETNS, args: e.CNI_ARGS, conf }) + '\\n');
if (conf.failOn === e.CNI_COMMAND) { console.log(JSON.stringify({ cniVersion: conf.cniVersion, code: 11, msg: 'failing on purpose' })); process.exit(1); }
if (e.CNI_COMMAND === 'ADD') {
  const r = conf.prevResult || { cniVersion: conf.cniVersion, interfaces: [], ips: [{ address: '10.0.0.2/24', interface: 0 }] };
  r.interfaces.push({ name: conf.type });
  console.log(JSON.stringify(r));
}
`;

interface Call { type: string; cmd: string; id: string; ifname: string; netns: string; args: string; conf: Record<string, unknown> & { prevResult?: { interfaces: { name: string }[] } } }

function setup(t: { teardown(fn: () => void): void }) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-libcni-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const bin = path.join(dir, 'bin');
  fs.mkdirSync(bin);
  for (const name of ['one', 'two', 'three']) fs.writeFileSync(path.join(bin, name), FAKE, { mode: 0o755 });
  const log = path.join(dir, 'log');
  process.env.FAKE_LOG = log;
  const calls = (): Call[] => (fs.existsSync(log) ? fs.readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l)) : []);
  const reset = () => fs.rmSync(log, { force: true });
  const rt = (id = 'ctr1'): RuntimeConf => ({
    containerId: id, netns: '/run/netns/fake', ifname: 'eth0', args: [['K8S_POD_NAME', 'p1'], ['IgnoreUnknown', '1']],
    capabilityArgs: { portMappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }], mac: '02:00:00:00:00:09' },
    cniPath: ['/nonexistent', bin], cacheDir: path.join(dir, 'cache'),
  });
  const list = (more: Record<string, unknown> = {}, plugins?: object[]) => parseNetworkList(JSON.stringify({
    cniVersion: '1.1.0', name: 'fakenet',
    plugins: plugins ?? [{ type: 'one', capabilities: { portMappings: true } }, { type: 'two', capabilities: { mac: true, bandwidth: true } }, { type: 'three' }],
    ...more,
  }), 'test.conflist');
  return { dir, calls, reset, rt, list };
}

t.test('ADD runs plugins in order with prevResult and capability runtimeConfig, and caches the result', async (t) => {
  const s = setup(t);
  const r = await addNetworkList(s.list(), s.rt());
  t.same(r.interfaces?.map((i) => i.name), ['one', 'two', 'three']);
  const c = s.calls();
  t.same(c.map((x) => `${x.cmd} ${x.type}`), ['ADD one', 'ADD two', 'ADD three']);
  t.equal(c[0].conf.prevResult, undefined);
  t.same(c[1].conf.prevResult?.interfaces.map((i) => i.name), ['one']);
  t.same(c[2].conf.prevResult?.interfaces.map((i) => i.name), ['one', 'two']);
  t.same(c[0].conf.runtimeConfig, { portMappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }] });
  t.same(c[1].conf.runtimeConfig, { mac: '02:00:00:00:00:09' }, 'only declared capabilities that have values');
  t.equal(c[2].conf.runtimeConfig, undefined);
  t.match(c[0], { id: 'ctr1', ifname: 'eth0', netns: '/run/netns/fake', args: 'K8S_POD_NAME=p1;IgnoreUnknown=1' });
  t.match(c[0].conf, { name: 'fakenet', cniVersion: '1.1.0' });
  const cache = JSON.parse(fs.readFileSync(path.join(s.dir, 'cache', 'results', 'fakenet-ctr1-eth0'), 'utf8'));
  t.equal(cache.kind, 'cniCacheV1');
  t.equal(cache.networkName, 'fakenet');
  t.same(cache.result.interfaces.map((i: { name: string }) => i.name), ['one', 'two', 'three']);
  t.equal(JSON.parse(Buffer.from(cache.config, 'base64').toString()).name, 'fakenet');
  t.same(getCachedResult(s.list(), s.rt())?.interfaces?.length, 3);
});

t.test('DEL runs in reverse with the cached result, removes the cache, and repeats cleanly', async (t) => {
  const s = setup(t);
  await addNetworkList(s.list(), s.rt());
  s.reset();
  await delNetworkList(s.list(), s.rt());
  const c = s.calls();
  t.same(c.map((x) => `${x.cmd} ${x.type}`), ['DEL three', 'DEL two', 'DEL one']);
  t.same(c[0].conf.prevResult?.interfaces.map((i) => i.name), ['one', 'two', 'three']);
  t.notOk(fs.existsSync(path.join(s.dir, 'cache', 'results', 'fakenet-ctr1-eth0')));
  s.reset();
  await delNetworkList(s.list(), { ...s.rt(), netns: '' });
  t.same(s.calls().map((x) => x.conf.prevResult), [undefined, undefined, undefined], 'second DEL has no prevResult');
});

t.test('0.3.1 lists: DEL gets no prevResult, CHECK is refused', async (t) => {
  const s = setup(t);
  const old = s.list({ cniVersion: '0.3.1' });
  await addNetworkList(old, s.rt());
  s.reset();
  await delNetworkList(old, s.rt());
  t.same(s.calls().map((x) => x.conf.prevResult), [undefined, undefined, undefined]);
  await t.rejects(checkNetworkList(old, s.rt()), { code: 1 });
});

t.test('CHECK passes the cached result; fails without one; disableCheck skips it', async (t) => {
  const s = setup(t);
  await t.rejects(checkNetworkList(s.list(), s.rt()), { code: 3 });
  await addNetworkList(s.list(), s.rt());
  s.reset();
  await checkNetworkList(s.list(), s.rt());
  t.same(s.calls().map((x) => `${x.cmd} ${x.type} ${x.conf.prevResult?.interfaces.length}`), ['CHECK one 3', 'CHECK two 3', 'CHECK three 3']);
  s.reset();
  await checkNetworkList(s.list({ disableCheck: true }), s.rt());
  t.same(s.calls(), []);
});

t.test('a failing plugin stops ADD with its error code', async (t) => {
  const s = setup(t);
  const failing = s.list({}, [{ type: 'one' }, { type: 'two', failOn: 'ADD' }, { type: 'three' }]);
  await t.rejects(addNetworkList(failing, s.rt()), { code: 11, message: /two: failing on purpose/ });
  t.same(s.calls().map((x) => x.type), ['one', 'two']);
  t.notOk(fs.existsSync(path.join(s.dir, 'cache', 'results', 'fakenet-ctr1-eth0')), 'nothing cached');
  await t.rejects(addNetworkList(s.list({}, [{ type: 'missing' }]), s.rt()), { code: 4, message: /missing/ });
});

t.test('GC DELs stale cached attachments, then sends GC with the valid list; disableGC skips', async (t) => {
  const s = setup(t);
  await addNetworkList(s.list(), s.rt('keep'));
  await addNetworkList(s.list(), s.rt('stale'));
  s.reset();
  const valid = [{ containerID: 'keep', ifname: 'eth0' }];
  await gcNetworkList(s.list(), valid, { cniPath: s.rt().cniPath, cacheDir: s.rt().cacheDir });
  const c = s.calls();
  t.same(c.map((x) => `${x.cmd} ${x.type} ${x.id ?? ''}`), [
    'DEL three stale', 'DEL two stale', 'DEL one stale', 'GC one ', 'GC two ', 'GC three ',
  ]);
  t.same(c[3].conf['cni.dev/valid-attachments'], valid);
  t.same(fs.readdirSync(path.join(s.dir, 'cache', 'results')), ['fakenet-keep-eth0']);
  s.reset();
  await gcNetworkList(s.list({ disableGC: true }), [], { cniPath: s.rt().cniPath, cacheDir: s.rt().cacheDir });
  t.same(s.calls(), []);
});

t.test('STATUS asks each plugin on 1.1.0 and is a no-op before', async (t) => {
  const s = setup(t);
  await statusNetworkList(s.list(), { cniPath: s.rt().cniPath });
  t.same(s.calls().map((x) => `${x.cmd} ${x.type}`), ['STATUS one', 'STATUS two', 'STATUS three']);
  s.reset();
  await statusNetworkList(s.list({ cniVersion: '1.0.0' }), { cniPath: s.rt().cniPath });
  t.same(s.calls(), []);
  await t.rejects(statusNetworkList(s.list({}, [{ type: 'one', failOn: 'STATUS' }]), { cniPath: s.rt().cniPath }), { code: 11 });
});

t.test('configs load by path or name; cniVersions picks the highest supported; errors name the field', async (t) => {
  const s = setup(t);
  const confDir = path.join(s.dir, 'net.d');
  fs.mkdirSync(confDir);
  fs.writeFileSync(path.join(confDir, '05-broken.conflist'), '{');
  fs.writeFileSync(path.join(confDir, '10-a.conflist'), JSON.stringify({ cniVersion: '1.0.0', cniVersions: ['0.4.0', '1.1.0', '9.0.0'], name: 'a', plugins: [{ type: 'one' }] }));
  fs.writeFileSync(path.join(confDir, '20-b.conf'), JSON.stringify({ cniVersion: '0.4.0', name: 'b', type: 'bridge', bridge: 'br0' }));
  const a = loadNetworkList('a', confDir);
  t.equal(a.cniVersion, '1.1.0');
  t.equal(a.source, path.join(confDir, '10-a.conflist'));
  const b = loadNetworkList(path.join(confDir, '20-b.conf'));
  t.same(b.plugins, [{ cniVersion: '0.4.0', name: 'b', type: 'bridge', bridge: 'br0' }], 'a .conf is a one-plugin list');
  t.equal(b.disableCheck, false);
  t.throws(() => loadNetworkList('zzz', confDir), { code: 7, message: /no network named "zzz"/ });
  t.throws(() => parseNetworkList('{"cniVersion":"1.0.0","plugins":[{"type":"x"}]}'), { code: 7, message: /name/ });
  t.throws(() => parseNetworkList('{"cniVersion":"1.0.0","name":"n","plugins":[{}]}'), { code: 7, message: /plugins\[0\]\.type/ });
  t.throws(() => parseNetworkList('{"cniVersion":"2.0.0","name":"n","plugins":[{"type":"x"}]}'), { code: 1 });
  t.throws(() => parseNetworkList('{"cniVersion":"1.0.0","name":"n","disableCheck":"yes","plugins":[{"type":"x"}]}'), { code: 7, message: /disableCheck/ });
  t.equal(parseNetworkList('{"cniVersion":"1.0.0","name":"n","disableCheck":"true","plugins":[{"type":"x"}]}').disableCheck, true);
  t.throws(() => parseNetworkList('nope'), { code: 6 });
});
