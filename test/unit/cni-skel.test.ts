import t from 'tap';
import { invokePlugin, Plugin, PluginContext } from '../../lib/cni/skel';
import { CniError, ErrTryAgainLater } from '../../lib/cni/errors';
import type { NetConf, Result } from '../../lib/cni/types';

// A plugin that records what the skel handed it.
function recorder(): { plugin: Plugin; calls: { verb: string; ctx: PluginContext }[] } {
  const calls: { verb: string; ctx: PluginContext }[] = [];
  const result: Result = {
    cniVersion: '1.1.0',
    interfaces: [{ name: 'eth0', sandbox: '/run/netns/x' }],
    ips: [{ address: '10.0.0.2/24', gateway: '10.0.0.1', interface: 0 }, { address: 'fd00::2/64', interface: 0 }],
    routes: [{ dst: '0.0.0.0/0', gw: '10.0.0.1', mtu: 1400 }],
  };
  const plugin: Plugin = {
    add: async (ctx) => { calls.push({ verb: 'ADD', ctx }); return result; },
    del: async (ctx) => { calls.push({ verb: 'DEL', ctx }); },
    check: async (ctx) => { calls.push({ verb: 'CHECK', ctx }); },
    gc: async (ctx) => { calls.push({ verb: 'GC', ctx }); },
    status: async (ctx) => { calls.push({ verb: 'STATUS', ctx }); },
  };
  return { plugin, calls };
}

const ENV = { CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'abc', CNI_NETNS: '/run/netns/x', CNI_IFNAME: 'eth0', CNI_PATH: '/a:/b' };
const conf = (extra: Partial<NetConf> = {}): Buffer =>
  Buffer.from(JSON.stringify({ cniVersion: '1.1.0', name: 'net1', type: 'fake', ...extra }));

async function errorOf(plugin: Plugin, env: NodeJS.ProcessEnv, stdin: Buffer): Promise<{ code: number; msg: string; details?: string; cniVersion: string }> {
  const out = await invokePlugin(plugin, env, stdin);
  if (out.exitCode === 0) throw new Error(`expected a failure, got ${out.stdout}`);
  return JSON.parse(out.stdout);
}

t.test('VERSION prints the supported versions without reading a config', async (t) => {
  const { plugin } = recorder();
  const out = await invokePlugin(plugin, { CNI_COMMAND: 'VERSION' }, Buffer.alloc(0));
  t.equal(out.exitCode, 0);
  t.same(JSON.parse(out.stdout), { cniVersion: '1.1.0', supportedVersions: ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] });
  const custom = await invokePlugin({ ...plugin, supportedVersions: ['1.0.0'] }, { CNI_COMMAND: 'VERSION' }, Buffer.alloc(0));
  t.same(JSON.parse(custom.stdout).supportedVersions, ['1.0.0']);
});

t.test('missing or unknown CNI_COMMAND and missing variables are code 4 naming the variable', async (t) => {
  const { plugin, calls } = recorder();
  let e = await errorOf(plugin, {}, conf());
  t.equal(e.code, 4);
  t.match(e.msg, /CNI_COMMAND/);
  e = await errorOf(plugin, { ...ENV, CNI_COMMAND: 'FROB' }, conf());
  t.equal(e.code, 4);
  t.match(e.msg, /FROB/);
  e = await errorOf(plugin, { ...ENV, CNI_NETNS: undefined }, conf());
  t.equal(e.code, 4);
  t.match(e.msg, /CNI_NETNS/);
  e = await errorOf(plugin, { ...ENV, CNI_PATH: '', CNI_IFNAME: undefined }, conf());
  t.match(e.msg, /CNI_IFNAME, CNI_PATH/);
  e = await errorOf(plugin, { ...ENV, CNI_IFNAME: 'a/b' }, conf());
  t.equal(e.code, 4);
  t.match(e.msg, /CNI_IFNAME/);
  e = await errorOf(plugin, { ...ENV, CNI_IFNAME: 'averyveryverylongname' }, conf());
  t.equal(e.code, 4);
  t.equal(calls.length, 0, 'the plugin was never called');
});

t.test('DEL tolerates a missing netns', async (t) => {
  const { plugin, calls } = recorder();
  const out = await invokePlugin(plugin, { ...ENV, CNI_COMMAND: 'DEL', CNI_NETNS: undefined }, conf());
  t.equal(out.exitCode, 0);
  t.equal(out.stdout, '');
  t.equal(calls[0].verb, 'DEL');
  t.equal(calls[0].ctx.netns, '');
});

t.test('bad JSON is code 6, bad versions code 1, bad configs code 7 naming the field', async (t) => {
  const { plugin, calls } = recorder();
  let e = await errorOf(plugin, ENV, Buffer.from('{"cniVersion":'));
  t.equal(e.code, 6);
  e = await errorOf(plugin, ENV, Buffer.from('[1,2]'));
  t.equal(e.code, 6);
  e = await errorOf(plugin, ENV, conf({ cniVersion: '9.9.9' }));
  t.equal(e.code, 1);
  t.match(e.details, /9\.9\.9/);
  t.equal(e.cniVersion, '1.1.0', 'an error for an unknown version is written in the newest version');
  e = await errorOf(plugin, ENV, conf({ cniVersion: undefined }));
  t.equal(e.code, 1);
  e = await errorOf(plugin, ENV, conf({ cniVersion: '0.4.0', name: '' }));
  t.equal(e.code, 7);
  t.match(e.msg, /^name:/);
  t.equal(e.cniVersion, '0.4.0', 'errors use the caller\'s version once it is known');
  e = await errorOf(plugin, ENV, conf({ name: 'bad name!' }));
  t.equal(e.code, 7);
  t.match(e.msg, /name/);
  e = await errorOf(plugin, ENV, conf({ type: undefined }));
  t.equal(e.code, 7);
  t.match(e.msg, /^type:/);
  e = await errorOf(plugin, { ...ENV, CNI_CONTAINERID: '../etc' }, conf());
  t.equal(e.code, 3);
  t.equal(calls.length, 0);
});

t.test('ADD converts the result to the config version and hands over env, args and path', async (t) => {
  const { plugin, calls } = recorder();
  const out = await invokePlugin(plugin, { ...ENV, CNI_ARGS: 'IP=10.0.0.9;K8S_POD_NAME=p=q;' }, conf({ cniVersion: '0.3.1' }));
  t.equal(out.exitCode, 0);
  const r = JSON.parse(out.stdout);
  t.equal(r.cniVersion, '0.3.1');
  t.same(r.ips.map((i: { version: string }) => i.version), ['4', '6']);
  t.same(r.routes, [{ dst: '0.0.0.0/0', gw: '10.0.0.1' }], 'route fields newer than 0.3.1 are dropped');
  const ctx = calls[0].ctx;
  t.same(ctx.args, { IP: '10.0.0.9', K8S_POD_NAME: 'p=q' });
  t.same(ctx.path, ['/a', '/b']);
  t.equal(ctx.containerId, 'abc');
  t.equal(ctx.ifname, 'eth0');
  t.equal(ctx.stdin.toString(), conf({ cniVersion: '0.3.1' }).toString());
});

t.test('prevResult reaches the plugin in the 1.1.0 shape', async (t) => {
  const { plugin, calls } = recorder();
  const prevResult = { cniVersion: '0.3.1', ips: [{ version: '4', address: '10.1.0.5/16', gateway: '10.1.0.1', interface: 0 }], interfaces: [{ name: 'eth0' }] };
  const out = await invokePlugin(plugin, { ...ENV, CNI_COMMAND: 'CHECK' }, conf({ cniVersion: '0.4.0', prevResult: prevResult as never }));
  t.equal(out.exitCode, 0, out.stdout);
  t.same(calls[0].ctx.config.prevResult, { cniVersion: '1.1.0', interfaces: [{ name: 'eth0' }], ips: [{ address: '10.1.0.5/16', gateway: '10.1.0.1', interface: 0 }] });
  const bad = await errorOf(plugin, ENV, conf({ prevResult: { ips: 'x' } as never }));
  t.equal(bad.code, 6);
});

t.test('CHECK needs 0.4.0, GC and STATUS need 1.1.0', async (t) => {
  const { plugin, calls } = recorder();
  let e = await errorOf(plugin, { ...ENV, CNI_COMMAND: 'CHECK' }, conf({ cniVersion: '0.3.1' }));
  t.equal(e.code, 1);
  t.match(e.msg, /CHECK/);
  e = await errorOf(plugin, { CNI_COMMAND: 'GC', CNI_PATH: '/a' }, conf({ cniVersion: '1.0.0' }));
  t.equal(e.code, 1);
  e = await errorOf(plugin, { CNI_COMMAND: 'STATUS', CNI_PATH: '/a' }, conf({ cniVersion: '1.0.0' }));
  t.equal(e.code, 1);
  t.equal(calls.length, 0);
});

t.test('GC gets the valid attachments; STATUS prints nothing; missing hooks succeed', async (t) => {
  const { plugin, calls } = recorder();
  const valid = [{ containerID: 'c1', ifname: 'eth0' }];
  let out = await invokePlugin(plugin, { CNI_COMMAND: 'GC', CNI_PATH: '/a' }, conf({ 'cni.dev/valid-attachments': valid }));
  t.equal(out.exitCode, 0, out.stdout);
  t.same((calls[0].ctx as unknown as { validAttachments: unknown }).validAttachments, valid);
  out = await invokePlugin(plugin, { CNI_COMMAND: 'GC', CNI_PATH: '/a' }, conf({ 'cni.dev/valid-attachments': [{ containerID: 1 }] }));
  t.equal(JSON.parse(out.stdout).code, 7);
  out = await invokePlugin(plugin, { CNI_COMMAND: 'STATUS', CNI_PATH: '/a' }, conf());
  t.equal(out.exitCode, 0);
  t.equal(out.stdout, '');
  const bare: Plugin = { add: plugin.add, del: plugin.del, check: plugin.check };
  out = await invokePlugin(bare, { CNI_COMMAND: 'GC', CNI_PATH: '/a' }, conf());
  t.equal(out.exitCode, 0);
});

t.test('thrown errors become error JSON: CniError keeps its code, field errors are 7, others 999', async (t) => {
  const throwing = (e: unknown): Plugin => ({ add: async () => { throw e; }, del: async () => undefined, check: async () => undefined });
  let e = await errorOf(throwing(new CniError(ErrTryAgainLater, 'busy', 'later')), ENV, conf());
  t.same(e, { cniVersion: '1.1.0', code: 11, msg: 'busy', details: 'later' });
  e = await errorOf(throwing(Object.assign(new Error('mtu: too big'), { field: 'mtu' })), ENV, conf());
  t.equal(e.code, 7);
  e = await errorOf(throwing(new Error('boom')), ENV, conf());
  t.equal(e.code, 999);
  t.equal(e.msg, 'boom');
});
