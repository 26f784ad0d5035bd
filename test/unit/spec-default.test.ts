import t from 'tap';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { defaultSpec } from '../../lib/runtime/spec/default';

// Written by `runc spec` and `runc spec --rootless` (runc 1.1.5, as root) in an empty directory.
const fixture = (name: string): string => fs.readFileSync(path.resolve(__dirname, '../../../test/fixtures', name), 'utf8');
const RUNC_SPEC = fixture('runc-spec.json');
const RUNC_SPEC_ROOTLESS = fixture('runc-spec-rootless.json');

const asRunc = (v: unknown): string => JSON.stringify(v, null, '\t');

t.test('defaultSpec() is runc spec, key for key and in the same order', async (t) => {
  t.equal(asRunc(defaultSpec()), RUNC_SPEC);
  t.equal(asRunc(defaultSpec({})), RUNC_SPEC);
});

t.test('defaultSpec({ rootless: true }) is runc spec --rootless', async (t) => {
  t.equal(asRunc(defaultSpec({ rootless: true, hostUid: 0, hostGid: 0 })), RUNC_SPEC_ROOTLESS);
});

t.test('rootless maps the given (or the effective) ids to root, without a network namespace', async (t) => {
  const s = defaultSpec({ rootless: true, hostUid: 1000, hostGid: 1001 });
  t.same(s.linux!.uidMappings, [{ containerID: 0, hostID: 1000, size: 1 }]);
  t.same(s.linux!.gidMappings, [{ containerID: 0, hostID: 1001, size: 1 }]);
  t.same(s.linux!.namespaces!.map((n) => n.type), ['pid', 'ipc', 'uts', 'mount', 'user']);
  t.equal(s.linux!.resources, undefined, 'no cgroup settings');
  t.notOk(s.mounts!.some((m) => m.options?.some((o) => o.startsWith('gid='))), 'no gid= mount options');
  const own = defaultSpec({ rootless: true });
  t.equal(own.linux!.uidMappings![0].hostID, process.geteuid!());
  t.equal(own.linux!.gidMappings![0].hostID, process.getegid!());
});

t.test('each call returns a fresh object that callers may edit', async (t) => {
  const a = defaultSpec();
  a.process!.args!.push('-c');
  a.process!.capabilities!.bounding!.push('CAP_SYS_ADMIN');
  a.mounts![2].options!.pop();
  t.equal(asRunc(defaultSpec()), RUNC_SPEC);
  const r = defaultSpec({ rootless: true, hostUid: 0, hostGid: 0 });
  t.equal(asRunc(defaultSpec()), RUNC_SPEC, 'making a rootless spec leaves the default alone');
  t.not(r.mounts, defaultSpec().mounts);
});

t.test('matches the runc on this machine, when there is one', { skip: !fs.existsSync('/usr/sbin/runc') && 'no /usr/sbin/runc' }, async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-spec-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  execFileSync('/usr/sbin/runc', ['spec'], { cwd: dir });
  t.same(defaultSpec(), JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')));
  fs.rmSync(path.join(dir, 'config.json'));
  execFileSync('/usr/sbin/runc', ['spec', '--rootless'], { cwd: dir });
  t.same(defaultSpec({ rootless: true }), JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')));
});
