// Bad input: one line naming the field, exit 1, and nothing left behind (state, cgroups, mounts, processes).
import t from 'tap';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { berth, bundle, leftovers } from '../helpers/run';
import { uniqueId } from '../helpers/bundle';
import type { Spec } from '../../lib/runtime/spec/types';

interface Case {
  name: string;
  edit?: (s: Spec) => void;
  raw?: string;
  bundleDir?: string;
  expect: RegExp;
}

const cases: Case[] = [
  { name: 'missing bundle', bundleDir: '/nonexistent/berth-bundle', expect: /--bundle: bundle \/nonexistent\/berth-bundle: no config\.json/ },
  { name: 'invalid JSON', raw: '{"ociVersion": "1.2.0", "process": ', expect: /config\.json: invalid JSON/ },
  { name: 'unknown namespace type', edit: (s) => { s.linux!.namespaces!.push({ type: 'bogus' as never }); }, expect: /linux\.namespaces\[5\]\.type: unknown namespace type "bogus"/ },
  { name: 'missing executable', edit: (s) => { s.process!.args = ['/bin/no-such-program']; }, expect: /process\.args: exec: "\/bin\/no-such-program": stat \/bin\/no-such-program: no such file or directory/ },
  { name: 'program not in PATH', edit: (s) => { s.process!.args = ['frobnicate']; }, expect: /process\.args: exec: "frobnicate": executable file not found in \$PATH/ },
  { name: 'bad mount source', edit: (s) => { s.mounts!.push({ destination: '/data', type: 'bind', source: '/nonexistent/berth-src', options: ['rbind'] }); }, expect: /mounts\[7\]: mount \/nonexistent\/berth-src: ENOENT/ },
  { name: 'mapping without a user namespace', edit: (s) => { s.linux!.uidMappings = [{ containerID: 0, hostID: 1000, size: 1 }]; }, expect: /linux\.uidMappings: mappings need a new user namespace/ },
  { name: 'unknown capability', edit: (s) => { s.process!.capabilities!.bounding = ['CAP_NOPE']; }, expect: /process\.capabilities\.bounding\[0\]/ },
  { name: 'unknown rlimit', edit: (s) => { s.process!.rlimits = [{ type: 'RLIMIT_NOPE', soft: 1, hard: 1 }]; }, expect: /process\.rlimits\[0\]\.type/ },
  { name: 'relative cwd', edit: (s) => { s.process!.cwd = 'tmp'; }, expect: /process\.cwd: must be an absolute path/ },
  { name: 'cwd below a file', edit: (s) => { s.process!.cwd = '/bin/sh/dir'; }, expect: /process\.cwd: enter working directory \/bin\/sh\/dir: ENOTDIR/ },
  { name: 'proc destination with another filesystem', edit: (s) => { s.mounts![0] = { destination: '/proc', type: 'tmpfs', source: 'tmpfs' }; }, expect: /mounts\[0\]: mount \/proc may only receive a procfs mount/ },
  { name: 'bad seccomp action', edit: (s) => { s.linux!.seccomp = { defaultAction: 'SCMP_ACT_NOPE' }; }, expect: /linux\.seccomp\.defaultAction/ },
  { name: 'hostname without uts namespace', edit: (s) => { s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'uts'); }, expect: /hostname: setting the hostname needs a uts namespace/ },
  { name: 'join a namespace that does not exist', edit: (s) => { s.linux!.namespaces = s.linux!.namespaces!.map((n) => (n.type === 'network' ? { type: 'network', path: '/run/netns/berth-none' } : n)); }, expect: /linux\.namespaces \(path #0\): join namespace \/run\/netns\/berth-none: ENOENT/ },
];

for (const c of cases) {
  t.test(`${c.name}: one-line error naming the field, nothing left`, async (t) => {
    const b = bundle(['/bin/true'], c.edit);
    t.teardown(() => b.cleanup());
    if (c.raw !== undefined) fs.writeFileSync(path.join(b.dir, 'config.json'), c.raw);
    const id = uniqueId('bad');
    const r = await berth(['--root', b.root, 'create', '--bundle', c.bundleDir ?? b.dir, id]);
    t.equal(r.code, 1);
    t.equal(r.stderr.split('\n').filter(Boolean).length, 1, `one line: ${r.stderr}`);
    t.match(r.stderr, c.expect);
    t.same(leftovers(b.root, id), [], 'no state dir, mount or cgroup');
    t.equal((await berth(['--root', b.root, 'list', '-q'])).stdout, '', 'not listed');
  });
}

t.test('a duplicate container id is refused and the first container is untouched', async (t) => {
  const b = bundle(['/bin/sleep', '1000']);
  const id = uniqueId('dup');
  t.teardown(async () => { await berth(['--root', b.root, 'delete', '--force', id]); b.cleanup(); });
  t.equal((await berth(['--root', b.root, 'create', '--bundle', b.dir, id])).code, 0);
  const r = await berth(['--root', b.root, 'create', '--bundle', b.dir, id]);
  t.equal(r.code, 1);
  t.match(r.stderr, new RegExp(`container with id exists: ${id}`));
  const st = JSON.parse((await berth(['--root', b.root, 'state', id])).stdout);
  t.equal(st.status, 'created');
});

t.test('invalid container ids and unknown flags', async (t) => {
  const b = bundle(['/bin/true']);
  t.teardown(() => b.cleanup());
  const r = await berth(['--root', b.root, 'create', '--bundle', b.dir, '../escape']);
  t.equal(r.code, 1);
  t.match(r.stderr, /id: invalid container id format/);
  t.notOk(fs.existsSync(path.join(b.root, '..', 'escape')));
  const f = await berth(['--root', b.root, 'create', '--frobnicate', 'x']);
  t.equal(f.code, 1);
  t.match(f.stderr, /flag provided but not defined: -frobnicate/);
  const s = await berth(['--systemd-cgroup', 'state', 'x']);
  t.match(s.stderr, /systemd cgroup driver is not supported/);
});

t.test('a native addon that cannot load fails create and run cleanly, leaving no state', async (t) => {
  const b = bundle(['/bin/true']);
  t.teardown(() => b.cleanup());
  const saved = process.env.BERTH_NATIVE;
  process.env.BERTH_NATIVE = path.join(b.dir, 'no-such-addon.node');
  t.teardown(() => { if (saved === undefined) delete process.env.BERTH_NATIVE; else process.env.BERTH_NATIVE = saved; });
  for (const cmd of ['create', 'run']) {
    const id = uniqueId('noaddon');
    const r = await berth(['--root', b.root, cmd, '--bundle', b.dir, id]);
    t.equal(r.code, 1, `${cmd} fails`);
    t.match(r.stderr, /no-such-addon\.node/, `${cmd} names the addon it could not load`);
    t.same(leftovers(b.root, id), [], `${cmd}: no state dir, mount or cgroup`);
  }
});

t.test('run (the vfork launch) reports setup errors the same way and leaves nothing', async (t) => {
  for (const c of cases.filter((x) => ['missing executable', 'bad mount source', 'cwd below a file'].includes(x.name))) {
    const b = bundle(['/bin/true'], c.edit);
    t.teardown(() => b.cleanup());
    const id = uniqueId('badrun');
    const r = await berth(['--root', b.root, 'run', '--bundle', b.dir, id]);
    t.equal(r.code, 1, `${c.name}: exit 1`);
    t.match(r.stderr, c.expect, `${c.name}: ${r.stderr.trim()}`);
    t.same(leftovers(b.root, id), [], `${c.name}: no state dir, mount or cgroup`);
  }
});
