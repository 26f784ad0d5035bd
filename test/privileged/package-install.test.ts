// The packed package, installed as a user would (npm pack, npm install -g into an empty prefix): the CLI and
// every plugin on PATH, the addon and the front-ends built at install for that place, `berth install cni`,
// and the typed API (subpath exports, declarations checked by tsc) from a script outside the checkout.
import t from 'tap';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PLUGINS } from '../../lib/cni/plugins/launch';
import { makeRootfs } from '../helpers/bundle';
import { cgroupParent, removeCgroupParent } from '../helpers/cgroup-parent';
import { createNetns, type TestNetns } from '../helpers/netns';

const REPO = path.resolve(__dirname, '../../..');
const TSC = path.join(REPO, 'node_modules', 'typescript', 'bin', 'tsc');
const VERSION = (JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { version: string }).version;

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'package-install-'));
const prefix = path.join(tmp, 'prefix');
const installed = path.join(prefix, 'lib', 'node_modules', 'berth');
const cgroup = cgroupParent(`package-install-${process.pid}`);
// the installed programs only, then the machine's tools; no server left behind by a cold call
const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${path.join(prefix, 'bin')}:/usr/sbin:/usr/bin:/sbin:/bin`, BERTH_NO_AUTOSTART: '1' };
const netnses: TestNetns[] = [];
t.teardown(() => {
  for (const ns of netnses) ns.remove();
  removeCgroupParent(cgroup);
  fs.rmSync(tmp, { recursive: true, force: true });
});

function sh(cmd: string, args: string[], opts: { cwd?: string; input?: string } = {}): string {
  return execFileSync(cmd, args, { cwd: opts.cwd ?? tmp, env, input: opts.input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
}

t.test('npm pack, then npm install -g into an empty prefix builds the addon and the front-ends there', async (t) => {
  // the checkout is built (the test runner needs it): declarations, then the tarball of what is there
  execFileSync(process.execPath, [TSC, '-p', path.join(REPO, 'tsconfig.types.json')], { cwd: REPO, stdio: 'inherit' });
  sh('npm', ['pack', '--ignore-scripts', '--pack-destination', tmp], { cwd: REPO });
  const tarball = path.join(tmp, `berth-${VERSION}.tgz`);
  t.ok(fs.existsSync(tarball), 'npm pack wrote the tarball');
  const listing = sh('tar', ['tzf', tarball]);
  t.match(listing, /package\/dist\/lib\/runtime\/container\.d\.ts/, 'declarations are packed');
  t.notMatch(listing, /package\/(dist\/test|native\/build|dist\/bin|dist\/npm-bin)\//, 'no tests, no machine-built binaries');
  fs.mkdirSync(prefix);
  sh('npm', ['install', '-g', '--prefix', prefix, '--allow-scripts=berth', '--prefer-offline', '--no-audit', '--no-fund', tarball]);
  for (const name of ['berth', ...Object.keys(PLUGINS)]) {
    // what clients exec from PATH is the native front-end (issue #13), not a Node script
    const onPath = path.join(prefix, 'bin', name);
    t.equal(fs.realpathSync(onPath), path.join(installed, 'dist', 'bin', name), `${name} on PATH is the front-end`);
    t.same([...fs.readFileSync(onPath).subarray(0, 4)], [0x7f, 0x45, 0x4c, 0x46], `${name} on PATH is an executable, not a script`);
  }
  t.ok(fs.existsSync(path.join(installed, 'native', 'build', 'Release', 'berth_native.node')), 'the addon was built at install');
  const frontEnd = fs.readFileSync(path.join(installed, 'dist', 'bin', 'berth-bridge'));
  t.ok(frontEnd.includes(installed), 'the front-end has the installed path compiled in');
  t.notOk(frontEnd.includes(`${REPO}/`) || frontEnd.includes(Buffer.from(`"${REPO}"`)), 'not the checkout\'s');
});

t.test('the installed CLI: --version, spec, run of a busybox rootfs', async (t) => {
  t.match(sh('berth', ['--version']), new RegExp(`berth version ${VERSION.replace(/\./g, '\\.')}`));
  const bundle = path.join(tmp, 'bundle');
  fs.mkdirSync(bundle);
  sh('berth', ['spec', '--bundle', bundle]);
  const spec = JSON.parse(fs.readFileSync(path.join(bundle, 'config.json'), 'utf8'));
  t.equal(spec.ociVersion.split('.')[0], '1', 'berth spec wrote an OCI spec');
  makeRootfs(path.join(bundle, 'rootfs'));
  spec.process.terminal = false;
  spec.process.args = ['/bin/sh', '-c', 'echo hello from $(hostname)'];
  spec.hostname = 'package-ctr';
  spec.linux.cgroupsPath = `${cgroup}/ctr`;
  fs.writeFileSync(path.join(bundle, 'config.json'), JSON.stringify(spec));
  const root = path.join(tmp, 'state');
  t.equal(sh('berth', ['--root', root, 'run', '--bundle', bundle, 'package-ctr']), 'hello from package-ctr\n');
  t.same(JSON.parse(sh('berth', ['--root', root, 'list', '--format', 'json']) || '[]'), [], 'run left no container');
  // the cold path of the installed package runs the packed CLI bundle: its code cache for `run` is there now
  const caches = fs.readdirSync(path.join(installed, 'dist', 'cli')).filter((f) => /^berth\.run\.[0-9a-f]+\.v8cache$/.test(f));
  t.equal(caches.length, 1, `the installed CLI ran from dist/cli/berth.js (${caches.join(', ')})`);
});

// A node netns where the plugins run (their host side lands there) and a container netns.
function lab(): { node: TestNetns; ctr: TestNetns; conflist: object } {
  const node = createNetns('pkgnode'); netnses.push(node);
  const ctr = createNetns('pkgctr'); netnses.push(ctr);
  const dataDir = path.join(tmp, `ipam-${netnses.length}`);
  return {
    node, ctr,
    conflist: {
      cniVersion: '1.0.0', name: 'pkgnet',
      plugins: [{ type: 'berth-veth', ipam: { type: 'host-local', ranges: [[{ subnet: '10.93.0.0/24' }]], dataDir } }],
    },
  };
}

t.test('berth install cni --dir puts working plugins there: VERSION, ADD and DEL in a netns', async (t) => {
  const dir = path.join(tmp, 'cni-bin');
  const out = sh('berth', ['install', 'cni', '--dir', dir]);
  for (const name of Object.keys(PLUGINS)) t.match(out, `${path.join(dir, name)} (front-end)`);
  const { node, ctr, conflist } = lab();
  const plugin = (conflist as { plugins: object[] }).plugins[0];
  const call = (command: string) => spawnSync('nsenter', [`--net=${node.path}`, path.join(dir, 'berth-veth')], {
    env: { ...env, CNI_COMMAND: command, CNI_CONTAINERID: 'pkg1', CNI_NETNS: ctr.path, CNI_IFNAME: 'eth0', CNI_PATH: `${dir}:/usr/lib/cni` },
    input: JSON.stringify({ cniVersion: '1.0.0', name: 'pkgnet', ...plugin }), encoding: 'utf8',
  });
  const version = call('VERSION');
  t.equal(version.status, 0, version.stderr);
  t.ok((JSON.parse(version.stdout) as { supportedVersions: string[] }).supportedVersions.includes('1.1.0'), 'VERSION lists 1.1.0');
  const add = call('ADD');
  t.equal(add.status, 0, add.stdout + add.stderr);
  t.match(JSON.parse(add.stdout), { ips: [{ address: /^10\.93\.0\.\d+\/32$/ }] });
  t.match(ctr.exec('ip', ['-4', 'addr', 'show', 'eth0']), /inet 10\.93\.0\.\d+\/32/);
  const del = call('DEL');
  t.equal(del.status, 0, del.stdout + del.stderr);
  t.equal(ctr.run('ip', ['link', 'show', 'eth0']).status, 1, 'DEL removed eth0');
});

const APP = `// @ts-check
'use strict';
const { runtime, cgroups, images } = require('berth');
const { list } = require('berth/runtime');
const { parseNetworkList, addNetworkList, checkNetworkList, delNetworkList } = require('berth/cni');
const { detectLayout } = require('berth/cgroups');
const { DEFAULT_DATA_ROOT } = require('berth/images');

async function main() {
  const [root, netns, cniDir, conflist] = process.argv.slice(2);
  const containers = await list({ root });
  const net = parseNetworkList(conflist);
  const rt = { containerId: 'api1', netns, ifname: 'eth0', cniPath: [cniDir, '/usr/lib/cni'], cacheDir: root + '/cni' };
  const result = await addNetworkList(net, rt);
  await checkNetworkList(net, rt);
  await delNetworkList(net, rt);
  /** @type {string} */
  const layout = detectLayout();
  console.log(JSON.stringify({
    containers: containers.length, result, layout, dataRoot: DEFAULT_DATA_ROOT,
    apis: [typeof runtime.run, typeof runtime.exec, typeof cgroups.createCgroup, typeof images.importImage],
  }));
}
main().catch((e) => { console.error(e.message); process.exit(1); });
`;
// a misuse the declarations must catch: kill's signal is a number
const BAD = `// @ts-check
'use strict';
const { kill } = require('berth/runtime');
kill('x', 'SIGTERM');
`;

t.test('the typed API from a script outside the checkout: declarations checked by tsc, a conflist on a netns', async (t) => {
  const app = path.join(prefix, 'lib', 'app');
  fs.mkdirSync(app);
  fs.writeFileSync(path.join(app, 'app.js'), APP);
  fs.writeFileSync(path.join(app, 'bad.js'), BAD);
  const tsc = (file: string) => spawnSync(process.execPath, [TSC, '--noEmit', '--allowJs', '--checkJs', '--strict', '--skipLibCheck',
    '--module', 'node16', '--moduleResolution', 'node16', '--target', 'es2022',
    '--typeRoots', path.join(REPO, 'node_modules', '@types'), '--types', 'node', file], { cwd: app, encoding: 'utf8' });
  const good = tsc('app.js');
  t.equal(good.status, 0, `app.js type-checks against the installed declarations\n${good.stdout}`);
  const bad = tsc('bad.js');
  t.not(bad.status, 0, 'a wrong argument type is a type error');
  t.match(bad.stdout, /bad\.js\(4,.*not assignable to parameter of type 'number'/);

  const { node, ctr, conflist } = lab();
  const r = spawnSync('nsenter', [`--net=${node.path}`, process.execPath, path.join(app, 'app.js'), path.join(tmp, 'api-state'), ctr.path,
    path.join(installed, 'bin'), JSON.stringify(conflist)], { cwd: app, env, encoding: 'utf8' });
  t.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  t.equal(out.containers, 0);
  t.match(out.result, { ips: [{ address: /^10\.93\.0\.\d+\/32$/ }] }, 'addNetworkList ran berth-veth');
  t.match(out.layout, /^(v1|v2|hybrid)$/);
  t.same(out.apis, ['function', 'function', 'function', 'function']);
  t.equal(ctr.run('ip', ['link', 'show', 'eth0']).status, 1, 'delNetworkList removed eth0');
});
