import t from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { delegateAdd, delegateDel, execPlugin, findInPath } from '../../lib/cni/invoke';
import { CniError } from '../../lib/cni/errors';
import type { PluginContext } from '../../lib/cni/skel';

// A fake plugin: a shell script that echoes its environment and stdin, or fails like a CNI plugin.
function fakeDir(t: { teardown(fn: () => void): void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-invoke-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.writeFileSync(path.join(dir, 'echo'), '#!/bin/sh\nin=$(cat)\nprintf \'{"cniVersion":"0.3.1","ips":[{"version":"4","address":"10.0.0.5/24"}],"dns":{"domain":"%s %s %s"}}\' "$CNI_COMMAND" "$CNI_ARGS" "$(printf %s "$in" | wc -c)"\n', { mode: 0o755 });
  fs.writeFileSync(path.join(dir, 'fail'), '#!/bin/sh\necho \'{"cniVersion":"1.0.0","code":11,"msg":"busy","details":"retry"}\'\nexit 1\n', { mode: 0o755 });
  fs.writeFileSync(path.join(dir, 'crash'), '#!/bin/sh\necho oops >&2\nexit 3\n', { mode: 0o755 });
  fs.writeFileSync(path.join(dir, 'quiet'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
  fs.writeFileSync(path.join(dir, 'noexec'), '', { mode: 0o644 });
  return dir;
}

function ctx(dir: string, config: object): PluginContext {
  return {
    command: 'ADD', containerId: 'c1', netns: '/run/netns/x', ifname: 'eth0', args: { A: '1', B: '2' }, path: ['/nonexistent', dir],
    config: config as PluginContext['config'], stdin: Buffer.from(JSON.stringify(config)),
  };
}

t.test('findInPath takes the first executable and refuses path tricks', async (t) => {
  const dir = fakeDir(t);
  t.equal(findInPath('echo', ['/nonexistent', dir]), path.join(dir, 'echo'));
  t.throws(() => findInPath('noexec', [dir]), { code: 4, message: /failed to find plugin "noexec"/ });
  t.throws(() => findInPath('../echo', [dir]), { code: 7 });
});

t.test('execPlugin passes env and stdin and parses the output', async (t) => {
  const dir = fakeDir(t);
  const out = await execPlugin('echo', [dir], { CNI_COMMAND: 'ADD', CNI_ARGS: 'X=y' }, Buffer.from('12345'));
  t.match(out, { dns: { domain: 'ADD X=y 5' } });
  t.equal(await execPlugin('quiet', [dir], { CNI_COMMAND: 'DEL' }, Buffer.alloc(0)), undefined);
});

t.test('a failing plugin becomes a CniError with its code', async (t) => {
  const dir = fakeDir(t);
  await t.rejects(execPlugin('fail', [dir], {}, Buffer.alloc(0)), { code: 11, message: 'fail: busy', details: 'retry' });
  const e = await execPlugin('crash', [dir], {}, Buffer.alloc(0)).catch((x: unknown) => x);
  t.ok(e instanceof CniError);
  t.equal((e as CniError).code, 999);
  t.match((e as CniError).message, /status 3: oops/);
});

t.test('delegateAdd returns the 1.1.0 shape; delegateDel swaps the verb', async (t) => {
  const dir = fakeDir(t);
  const c = ctx(dir, { cniVersion: '0.3.1', name: 'n', type: 'x', ipam: { type: 'echo' } });
  const r = await delegateAdd('echo', c);
  t.same(r.ips, [{ address: '10.0.0.5/24' }]);
  t.equal(r.dns?.domain, `ADD A=1;B=2 ${c.stdin.length}`);
  const custom = await delegateAdd('echo', c, { x: 1 });
  t.equal(custom.dns?.domain, 'ADD A=1;B=2 7', 'a given netconf replaces stdin');
  await t.resolves(delegateDel('quiet', c));
  await t.rejects(delegateDel('fail', c), { code: 11 });
});

t.test('berth-ipam delegations run in-process', async (t) => {
  const dir = fakeDir(t);
  const dataDir = path.join(dir, 'data');
  const c = ctx('/nonexistent', { cniVersion: '1.0.0', name: 'inproc', type: 'x', ipam: { type: 'berth-ipam', dataDir, subnet: '10.5.0.0/24' } });
  const r = await delegateAdd('berth-ipam', c);
  t.same(r.ips, [{ address: '10.5.0.2/24', gateway: '10.5.0.1' }]);
  t.ok(fs.existsSync(path.join(dataDir, 'inproc', '10.5.0.2')));
  await delegateDel('berth-ipam', c);
  t.notOk(fs.existsSync(path.join(dataDir, 'inproc', '10.5.0.2')));
  await t.rejects(delegateAdd('berth-ipam', ctx('/x', { cniVersion: '1.0.0', name: 'n', type: 'x' })), { code: 7, message: /^ipam:/ });
});
