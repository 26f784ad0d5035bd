// STATUS (CNI 1.1): each plugin says whether it could take an ADD now. berth-ipam: its data dir is
// writable; berth-bridge and berth-veth: their IPAM is ready (delegateStatus, in-process or exec'd);
// berth-vxlan: the agent's subnet file exists; berth-portmap: nothing to check.
import t from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { invokePlugin, type PluginContext } from '../../lib/cni/skel';
import { delegateStatus } from '../../lib/cni/invoke';
import { plugin as ipam } from '../../lib/cni/ipam/plugin';
import { plugin as bridge } from '../../lib/cni/plugins/bridge';
import { plugin as veth } from '../../lib/cni/plugins/veth';
import { plugin as vxlan } from '../../lib/cni/plugins/vxlan';
import { plugin as portmap } from '../../lib/cni/plugins/portmap';

const BIN = path.resolve(__dirname, '../../../bin');

function tmp(t: { teardown(fn: () => void): void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-status-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

// what a runtime passes for STATUS: no container, no netns, no ifname
const env = (cniPath = '/nonexistent'): NodeJS.ProcessEnv => ({ CNI_COMMAND: 'STATUS', CNI_PATH: cniPath });

async function status(p: Parameters<typeof invokePlugin>[0], conf: object, cniPath?: string): Promise<{ exitCode: number; out: Record<string, unknown> }> {
  const r = await invokePlugin(p, env(cniPath), Buffer.from(JSON.stringify(conf)));
  return { exitCode: r.exitCode, out: r.stdout.trim() ? JSON.parse(r.stdout) as Record<string, unknown> : {} };
}

/** A path below a regular file: mkdir fails with ENOTDIR even for root. */
function unwritable(dir: string): string {
  fs.writeFileSync(path.join(dir, 'file'), '');
  return path.join(dir, 'file', 'data');
}

t.test('berth-ipam: ready when the data dir is writable, code 50 when it is not', async (t) => {
  const dir = tmp(t);
  const dataDir = path.join(dir, 'data');
  const conf = { cniVersion: '1.1.0', name: 'st', type: 'berth-ipam', ipam: { type: 'berth-ipam', subnet: '10.9.0.0/24', dataDir } };
  const ok = await status(ipam, conf);
  t.equal(ok.exitCode, 0);
  t.same(ok.out, {}, 'success prints nothing');
  t.same(fs.readdirSync(path.join(dataDir, 'st')), [], 'network dir made, the probe file removed');

  const bad = await status(ipam, { ...conf, ipam: { ...conf.ipam, dataDir: unwritable(dir) } });
  t.equal(bad.exitCode, 1);
  t.match(bad.out, { cniVersion: '1.1.0', code: 50, msg: /^dataDir: cannot write allocations to .*file\/data\/st$/, details: /ENOTDIR/ });
});

t.test('berth-ipam: STATUS validates the config (7) and needs CNI 1.1.0 (1)', async (t) => {
  const bad = await status(ipam, { cniVersion: '1.1.0', name: 'st', type: 'berth-ipam', ipam: { type: 'berth-ipam', subnet: 'nonsense' } });
  t.match(bad.out, { code: 7 });
  const none = await status(ipam, { cniVersion: '1.1.0', name: 'st', type: 'berth-ipam' });
  t.match(none.out, { code: 7, msg: /^ipam:/ });
  const old = await status(ipam, { cniVersion: '1.0.0', name: 'st', type: 'berth-ipam', ipam: { type: 'berth-ipam', subnet: '10.9.0.0/24' } });
  t.match(old.out, { cniVersion: '1.0.0', code: 1, msg: /does not allow STATUS/ });
});

t.test('berth-bridge and berth-veth answer with their IPAM\'s status (berth-ipam in-process)', async (t) => {
  const dir = tmp(t);
  for (const [name, p] of [['berth-bridge', bridge], ['berth-veth', veth]] as const) {
    const conf = (dataDir: string): object => ({ cniVersion: '1.1.0', name: 'st', type: name, ipam: { type: 'berth-ipam', subnet: '10.9.0.0/24', dataDir } });
    t.equal((await status(p, conf(path.join(dir, name)))).exitCode, 0, `${name} ready`);
    t.match((await status(p, conf(unwritable(fs.mkdtempSync(path.join(dir, 'x')))))).out, { code: 50, msg: /^dataDir:/ }, `${name} not ready`);
    t.match((await status(p, { cniVersion: '1.1.0', name: 'st', type: name })).out, { code: 7, msg: /^ipam/ }, `${name} without ipam`);
  }
});

t.test('delegateStatus execs other IPAM plugins with CNI_COMMAND=STATUS and passes their error on', async (t) => {
  const dir = tmp(t);
  // ready only if called with the STATUS verb and the config on stdin
  fs.writeFileSync(path.join(dir, 'fake-ipam'),
    '#!/bin/sh\nin=$(cat)\n[ "$CNI_COMMAND" = STATUS ] && case "$in" in *fake-ipam*) exit 0;; esac\n' +
    'echo \'{"cniVersion":"1.1.0","code":50,"msg":"pool offline"}\'\nexit 1\n', { mode: 0o755 });
  fs.writeFileSync(path.join(dir, 'down-ipam'), '#!/bin/sh\necho \'{"cniVersion":"1.1.0","code":50,"msg":"pool offline"}\'\nexit 1\n', { mode: 0o755 });
  const conf = (type: string): object => ({ cniVersion: '1.1.0', name: 'st', type: 'berth-bridge', ipam: { type } });
  t.equal((await status(bridge, conf('fake-ipam'), dir)).exitCode, 0);
  t.match((await status(bridge, conf('down-ipam'), dir)).out, { code: 50, msg: 'down-ipam: pool offline' });
  t.match((await status(bridge, conf('missing-ipam'), dir)).out, { code: 4, msg: /failed to find plugin "missing-ipam"/ });

  const ctx: PluginContext = {
    command: 'STATUS', containerId: '', netns: '', ifname: '', args: {}, path: [dir],
    config: conf('fake-ipam') as PluginContext['config'], stdin: Buffer.from(JSON.stringify(conf('fake-ipam'))),
  };
  await t.resolves(delegateStatus('fake-ipam', ctx));
  await t.rejects(delegateStatus('fake-ipam', ctx, { other: 'config' }), { code: 50 }, 'a given netconf replaces stdin');
});

t.test('berth-vxlan: code 50 until the agent wrote the subnet file, then its IPAM decides', async (t) => {
  const dir = tmp(t);
  const subnetFile = path.join(dir, 'subnet.json');
  const conf = { cniVersion: '1.1.0', name: 'ovl', type: 'berth-vxlan', subnetFile };
  t.match((await status(vxlan, conf)).out, { code: 50, msg: /^subnetFile: cannot read .*ENOENT/ });
  const settings = { node: 'n1', backend: 'vxlan', network: '10.244.0.0/16', subnet: '10.244.3.0/24', gateway: '10.244.3.1', mtu: 1450, ipamDataDir: path.join(dir, 'ipam') };
  fs.writeFileSync(subnetFile, JSON.stringify(settings));
  const ok = await status(vxlan, conf);
  t.equal(ok.exitCode, 0, JSON.stringify(ok.out));
  t.ok(fs.existsSync(path.join(dir, 'ipam', 'ovl')), 'checked the IPAM dir the lease names');
  fs.writeFileSync(subnetFile, JSON.stringify({ ...settings, ipamDataDir: unwritable(dir) }));
  t.match((await status(vxlan, conf)).out, { code: 50, msg: /^dataDir:/ });
  fs.writeFileSync(subnetFile, '{"half":');
  t.match((await status(vxlan, conf)).out, { code: 50, msg: /^subnetFile:/ });
  t.match((await status(vxlan, { ...conf, subnetFile: 'relative.json' })).out, { code: 7, msg: /^subnetFile:/ }, 'a bad config is still a config error');
});

t.test('berth-portmap: nothing to check, ready', async (t) => {
  const r = await status(portmap, { cniVersion: '1.1.0', name: 'pm', type: 'berth-portmap' });
  t.equal(r.exitCode, 0);
  t.same(r.out, {});
});

t.test('the plugin binaries answer STATUS with the spec\'s JSON and exit code', async (t) => {
  const dir = tmp(t);
  const run = (conf: object) => spawnSync(path.join(BIN, 'berth-bridge'), [], {
    input: JSON.stringify(conf), encoding: 'utf8', env: { PATH: process.env.PATH, BERTH_NO_AUTOSTART: '1', CNI_COMMAND: 'STATUS', CNI_PATH: '/nonexistent' },
  });
  const conf = (dataDir: string): object => ({ cniVersion: '1.1.0', name: 'st', type: 'berth-bridge', ipam: { type: 'berth-ipam', subnet: '10.9.0.0/24', dataDir } });
  const ok = run(conf(path.join(dir, 'ok')));
  t.equal(ok.status, 0, ok.stdout + ok.stderr);
  t.equal(ok.stdout, '');
  const bad = run(conf(unwritable(dir)));
  t.equal(bad.status, 1);
  t.match(JSON.parse(bad.stdout), { cniVersion: '1.1.0', code: 50 });
  const noPath = spawnSync(path.join(BIN, 'berth-ipam'), [], { input: '{}', encoding: 'utf8', env: { PATH: process.env.PATH, BERTH_NO_AUTOSTART: '1', CNI_COMMAND: 'STATUS' } });
  t.match(JSON.parse(noPath.stdout), { code: 4, msg: /CNI_PATH/ });
});
