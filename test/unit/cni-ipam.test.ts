import t from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { invokePlugin } from '../../lib/cni/skel';
import { plugin } from '../../lib/cni/ipam/plugin';

// Runs berth-ipam through the skel exactly as a process would, against a private dataDir.
function setup(t: { teardown(fn: () => void): void }, ipam: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-ipam-'));
  t.teardown(() => fs.rmSync(dataDir, { recursive: true, force: true }));
  const conf = (more: Record<string, unknown> = {}) => Buffer.from(JSON.stringify({
    cniVersion: '1.1.0', name: 'testnet', type: 'berth-ipam', ...extra, ...more,
    ipam: { type: 'berth-ipam', dataDir, ...ipam },
  }));
  const call = async (command: string, id: string, more: Record<string, unknown> = {}, env: Record<string, string> = {}) => {
    const out = await invokePlugin(plugin, {
      CNI_COMMAND: command, CNI_CONTAINERID: id, CNI_NETNS: '/run/netns/x', CNI_IFNAME: 'eth0', CNI_PATH: '/bin', ...env,
    }, conf(more));
    return { ...out, json: out.stdout ? JSON.parse(out.stdout) : undefined };
  };
  const add = async (id: string, more: Record<string, unknown> = {}, env: Record<string, string> = {}) => {
    const out = await call('ADD', id, more, env);
    if (out.exitCode !== 0) throw new Error(`ADD ${id} failed: ${out.stdout}`);
    return out.json.ips.map((i: { address: string }) => i.address) as string[];
  };
  const files = () => fs.readdirSync(path.join(dataDir, 'testnet')).filter((f) => !f.startsWith('last_reserved')).sort();
  return { dataDir, call, add, files };
}

t.test('allocates in order, skips network and gateway, stores "id\\r\\nifname"', async (t) => {
  const s = setup(t, { ranges: [[{ subnet: '10.10.0.0/24' }]], routes: [{ dst: '0.0.0.0/0' }] });
  const out = await s.call('ADD', 'c1');
  t.equal(out.exitCode, 0, out.stdout);
  t.same(out.json, { cniVersion: '1.1.0', ips: [{ address: '10.10.0.2/24', gateway: '10.10.0.1' }], routes: [{ dst: '0.0.0.0/0' }] });
  t.same(await s.add('c2'), ['10.10.0.3/24']);
  t.equal(fs.readFileSync(path.join(s.dataDir, 'testnet', '10.10.0.2'), 'utf8'), 'c1\r\neth0');
  t.equal(fs.readFileSync(path.join(s.dataDir, 'testnet', 'last_reserved_ip.0'), 'utf8'), '10.10.0.3');
});

t.test('round robin: a released address is not reused until the range wraps', async (t) => {
  // .1 gateway, .2-.6 usable, .7 broadcast
  const s = setup(t, { subnet: '10.20.0.0/29' });
  t.same(await s.add('a'), ['10.20.0.2/29']);
  t.same(await s.add('b'), ['10.20.0.3/29']);
  t.equal((await s.call('DEL', 'a')).exitCode, 0);
  t.same(await s.add('c'), ['10.20.0.4/29'], 'continues after the last reserved');
  t.same(await s.add('d'), ['10.20.0.5/29']);
  t.same(await s.add('e'), ['10.20.0.6/29']);
  t.same(await s.add('f'), ['10.20.0.2/29'], 'wraps to the freed address');
  const full = await s.call('ADD', 'g');
  t.equal(full.exitCode, 1);
  t.equal(full.json.code, 11);
  t.match(full.json.msg, /no IP addresses available in range set ipam \(10\.20\.0\.1-10\.20\.0\.6\)/);
  t.same(s.files(), ['10.20.0.2', '10.20.0.3', '10.20.0.4', '10.20.0.5', '10.20.0.6'], 'nothing allocated for the failed ADD');
});

t.test('exclusions: rangeStart/End, a gateway inside the range, an exclude list', async (t) => {
  const s = setup(t, {
    ranges: [[{ subnet: '10.30.0.0/24', rangeStart: '10.30.0.10', rangeEnd: '10.30.0.20', gateway: '10.30.0.11' }]],
    exclude: ['10.30.0.12', '10.30.0.14/31'],
  });
  const got: string[] = [];
  for (let i = 0; i < 6; i++) got.push(...(await s.add(`c${i}`)));
  t.same(got, ['10.30.0.10/24', '10.30.0.13/24', '10.30.0.16/24', '10.30.0.17/24', '10.30.0.18/24', '10.30.0.19/24']);
  t.same(await s.add('c6'), ['10.30.0.20/24']);
  t.equal((await s.call('ADD', 'c7')).json.code, 11);
});

t.test('one address per range set, IPv4 and IPv6, ranges of a set used in turn', async (t) => {
  const s = setup(t, {
    ranges: [
      [{ subnet: '10.40.0.0/30' }, { subnet: '10.41.0.0/30' }],
      [{ subnet: 'fd00:40::/64', rangeStart: 'fd00:40::a', rangeEnd: 'fd00:40::b' }],
    ],
  });
  t.same(await s.add('a'), ['10.40.0.2/30', 'fd00:40::a/64']);
  t.same(await s.add('b'), ['10.41.0.2/30', 'fd00:40::b/64'], 'second range of the first set once the first is full');
  const r = await s.call('ADD', 'c');
  t.equal(r.json.code, 11);
  t.match(r.json.msg, /ipam\.ranges\[0\]/);
  t.same(s.files(), ['10.40.0.2', '10.41.0.2', 'fd00:40::a', 'fd00:40::b']);
});

t.test('a full IPv6 set rolls back the IPv4 address taken by the same ADD', async (t) => {
  const s = setup(t, { ranges: [[{ subnet: '10.50.0.0/24' }], [{ subnet: 'fd00:50::/120', rangeStart: 'fd00:50::5', rangeEnd: 'fd00:50::5' }]] });
  await s.add('a');
  const r = await s.call('ADD', 'b');
  t.equal(r.json.code, 11);
  t.match(r.json.msg, /ipam\.ranges\[1\]/);
  t.same(s.files(), ['10.50.0.2', 'fd00:50::5']);
});

t.test('requested addresses: runtimeConfig.ips, args.cni.ips, CNI_ARGS IP', async (t) => {
  const s = setup(t, { ranges: [[{ subnet: '10.60.0.0/24' }], [{ subnet: 'fd00:60::/64' }]] });
  t.same(await s.add('a', { runtimeConfig: { ips: ['10.60.0.77/24', 'fd00:60::77'] } }), ['10.60.0.77/24', 'fd00:60::77/64']);
  t.same(await s.add('b', { args: { cni: { ips: ['10.60.0.78'] } } }), ['10.60.0.78/24', 'fd00:60::78/64'],
    'the IPv6 set continues after the last reserved, which the request set');
  t.same(await s.add('c', {}, { CNI_ARGS: 'IP=10.60.0.79' }), ['10.60.0.79/24', 'fd00:60::79/64']);
  let r = await s.call('ADD', 'd', { runtimeConfig: { ips: ['10.60.0.77'] } });
  t.equal(r.json.code, 11, 'taken');
  t.match(r.json.msg, /runtimeConfig\.ips\[0\].*10\.60\.0\.77/);
  r = await s.call('ADD', 'd', { runtimeConfig: { ips: ['192.168.1.1'] } });
  t.equal(r.json.code, 7, 'outside every range');
  t.match(r.json.msg, /runtimeConfig\.ips\[0\]/);
  r = await s.call('ADD', 'd', { runtimeConfig: { ips: ['10.60.0.1'] } });
  t.equal(r.json.code, 7, 'the gateway');
  r = await s.call('ADD', 'd', { runtimeConfig: { ips: ['nonsense'] } });
  t.equal(r.json.code, 7);
  t.same(s.files(), ['10.60.0.77', '10.60.0.78', '10.60.0.79', 'fd00:60::77', 'fd00:60::78', 'fd00:60::79']);
});

t.test('DEL releases by container and ifname, twice, and with no state at all', async (t) => {
  const s = setup(t, { subnet: '10.70.0.0/24' });
  await s.add('a');
  await s.add('a', {}, { CNI_IFNAME: 'net1' });
  await s.add('b');
  t.equal((await s.call('DEL', 'a')).exitCode, 0);
  t.same(s.files(), ['10.70.0.3', '10.70.0.4'], 'a/net1 and b remain');
  const again = await s.call('DEL', 'a', {}, { CNI_NETNS: '' });
  t.equal(again.exitCode, 0, 'repeated DEL without a netns succeeds');
  t.equal(again.stdout, '');
  const fresh = setup(t, { subnet: '10.71.0.0/24' });
  t.equal((await fresh.call('DEL', 'nobody')).exitCode, 0);
  t.notOk(fs.existsSync(path.join(fresh.dataDir, 'testnet')), 'DEL creates no state');
});

t.test('a second ADD for the same attachment is refused', async (t) => {
  const s = setup(t, { subnet: '10.75.0.0/24' });
  await s.add('a');
  const r = await s.call('ADD', 'a');
  t.equal(r.exitCode, 1);
  t.match(r.json.msg, /duplicate/);
  t.same(s.files(), ['10.75.0.2']);
});

t.test('CHECK finds the allocation, fails with code 3 without one', async (t) => {
  const s = setup(t, { subnet: '10.80.0.0/24' });
  await s.add('a');
  t.equal((await s.call('CHECK', 'a')).exitCode, 0);
  const r = await s.call('CHECK', 'b');
  t.equal(r.json.code, 3);
});

t.test('GC keeps only the valid attachments', async (t) => {
  const s = setup(t, { subnet: '10.90.0.0/24' });
  await s.add('a');
  await s.add('b');
  await s.add('c');
  await s.add('c', {}, { CNI_IFNAME: 'net1' });
  const out = await invokePlugin(plugin, { CNI_COMMAND: 'GC', CNI_PATH: '/bin' }, Buffer.from(JSON.stringify({
    cniVersion: '1.1.0', name: 'testnet', type: 'berth-ipam',
    ipam: { type: 'berth-ipam', dataDir: s.dataDir, subnet: '10.90.0.0/24' },
    'cni.dev/valid-attachments': [{ containerID: 'b', ifname: 'eth0' }, { containerID: 'c', ifname: 'net1' }],
  })));
  t.equal(out.exitCode, 0, out.stdout);
  t.same(s.files(), ['10.90.0.3', '10.90.0.5']);
});

t.test('invalid IPAM configs are code 7 naming the field, and allocate nothing', async (t) => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{}, /^ipam\.ranges: no IP ranges/],
    [{ ranges: [[{ subnet: '10.0.0.0/33' }]] }, /^ipam\.ranges\[0\]\[0\]\.subnet: invalid subnet/],
    [{ ranges: [[{ subnet: 'banana' }]] }, /^ipam\.ranges\[0\]\[0\]\.subnet/],
    [{ ranges: [[{ subnet: '10.0.0.1/24' }]] }, /host bits/],
    [{ ranges: [[{ subnet: '10.0.0.0/31' }]] }, /too small/],
    [{ ranges: [[{ subnet: '10.0.0.0/24', rangeStart: '10.0.1.5' }]] }, /^ipam\.ranges\[0\]\[0\]\.rangeStart/],
    [{ ranges: [[{ subnet: '10.0.0.0/24', rangeEnd: '10.0.0.255' }]] }, /^ipam\.ranges\[0\]\[0\]\.rangeEnd/],
    [{ ranges: [[{ subnet: '10.0.0.0/24', gateway: 'fd00::1' }]] }, /^ipam\.ranges\[0\]\[0\]\.gateway/],
    [{ ranges: [[{ subnet: '10.0.0.0/24' }, { subnet: 'fd00::/64' }]] }, /one address family/],
    [{ ranges: [[{ subnet: '10.0.0.0/24' }], [{ subnet: '10.0.0.0/25' }]] }, /^ipam\.ranges\[1\]\[0\]: range overlaps/],
    [{ ranges: {} }, /^ipam\.ranges:/],
    [{ subnet: '10.0.0.0/24', routes: [{ dst: 'x' }] }, /^ipam\.routes\[0\]\.dst/],
    [{ subnet: '10.0.0.0/24', exclude: ['nope'] }, /^ipam\.exclude\[0\]/],
    [{ subnet: '10.0.0.0/24', dataDir: 'relative' }, /^ipam\.dataDir/],
  ];
  for (const [ipam, re] of cases) {
    const s = setup(t, ipam);
    const r = await s.call('ADD', 'a');
    t.equal(r.json?.code, 7, JSON.stringify(ipam));
    t.match(r.json?.msg, re);
    t.notOk(fs.existsSync(path.join(s.dataDir, 'testnet')), 'no state written');
  }
  const out = await invokePlugin(plugin, { CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'a', CNI_NETNS: '/x', CNI_IFNAME: 'eth0', CNI_PATH: '/bin' },
    Buffer.from(JSON.stringify({ cniVersion: '1.0.0', name: 'n', type: 'berth-ipam' })));
  t.match(JSON.parse(out.stdout), { code: 7, msg: /^ipam:/ });
});

t.test('results follow the config version; resolvConf fills dns', async (t) => {
  const s = setup(t, { subnet: '10.95.0.0/24', resolvConf: '' });
  const resolv = path.join(s.dataDir, 'resolv.conf');
  fs.writeFileSync(resolv, '# comment\nnameserver 10.95.0.53\nsearch a.example b.example\noptions ndots:2\ndomain example\n');
  const s2 = setup(t, { subnet: '10.96.0.0/24', resolvConf: resolv });
  const r = await s2.call('ADD', 'a', { cniVersion: '0.3.0' });
  t.same(r.json, {
    cniVersion: '0.3.0',
    ips: [{ version: '4', address: '10.96.0.2/24', gateway: '10.96.0.1' }],
    dns: { nameservers: ['10.95.0.53'], domain: 'example', search: ['a.example', 'b.example'], options: ['ndots:2'] },
  });
  const missing = setup(t, { subnet: '10.97.0.0/24', resolvConf: '/nonexistent/resolv.conf' });
  t.match((await missing.call('ADD', 'a')).json, { code: 7, msg: /^ipam\.resolvConf/ });
});
