#!/usr/bin/env node
// Build step after tsc (npm run build:bundles): with esbuild, bundles into one file each
//   - every CNI plugin (bin/berth-<plugin>): dist/plugins/berth-<plugin>.js, run by lib/cni/plugins/launch.ts;
//   - the CLI's lifecycle commands (create, start, run, exec, kill, delete, ...): dist/cli/lifecycle.js,
//     loaded by lib/runtime/cli/main.ts,
// so a call reads and compiles one file instead of dozens of modules. lib/util/bundle.ts picks a bundle
// only while it is newer than every file listed beside it (<name>.inputs.json) and keeps V8 code caches
// beside it.
// A plugin bundles the `netlink` package too, its addon required by a path fixed here at build time instead
// of through node-gyp-build, which would search node_modules on every start. The CLI bundle leaves the
// npm packages outside (they load from node_modules when a command needs them).
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const esbuild = require('esbuild');
const nodeGypBuild = require('node-gyp-build');

const ROOT = path.join(__dirname, '..');
const DIST = path.join(ROOT, 'dist');
const { PLUGINS } = require(path.join(DIST, 'lib', 'cni', 'plugins', 'launch.js'));

// netlink/dist/raw.js loads its addon with this line; a new netlink version that changes it fails here
const NETLINK_LOAD = "require('node-gyp-build')(__dirname + '/..')";

/** Fixes netlink's addon path relative to a bundle written in `outDir`. */
function netlinkAddon(outDir) {
  return {
    name: 'netlink-addon',
    setup(build) {
      build.onLoad({ filter: /[\\/]netlink[\\/]dist[\\/]raw\.js$/ }, (args) => {
        const src = fs.readFileSync(args.path, 'utf8');
        if (!src.includes(NETLINK_LOAD)) throw new Error(`${args.path}: addon loading changed (no ${NETLINK_LOAD})`);
        // the addon node-gyp-build would pick now, relative to the bundle (__dirname at run time)
        const addon = path.relative(outDir, nodeGypBuild.path(path.join(path.dirname(args.path), '..')));
        return { contents: src.replace(NETLINK_LOAD, `require(require('path').join(__dirname, ${JSON.stringify(addon)}))`), loader: 'js' };
      });
    },
  };
}

/** Bundles `entry` (source text, resolved from dist/) into `out`, and lists its inputs beside it. */
async function bundle(entry, out, extra) {
  const outDir = path.dirname(out);
  const { metafile } = await esbuild.build({
    stdin: { contents: entry, resolveDir: DIST, sourcefile: `${path.basename(out, '.js')}-entry.js`, loader: 'js' },
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    outfile: out,
    metafile: true,
    absWorkingDir: ROOT,
    logLevel: 'warning',
    ...extra,
  });
  // what the bundle was made from, for the freshness check (lib/util/bundle.ts)
  const inputs = Object.keys(metafile.inputs).filter((f) => !f.startsWith('<stdin>') && !f.endsWith('-entry.js'))
    .map((f) => path.relative(outDir, path.resolve(ROOT, f)));
  if (extra.plugins) inputs.push(path.relative(outDir, nodeGypBuild.path(path.join(ROOT, 'node_modules', 'netlink'))));
  fs.writeFileSync(`${out.slice(0, -'.js'.length)}.inputs.json`, JSON.stringify(inputs) + '\n');
}

/** A fresh output directory's old code caches go: they are never valid for new bundles. */
function prepare(dir) {
  fs.mkdirSync(dir, { recursive: true });
  for (const f of fs.readdirSync(dir)) if (/\.v8cache(\.\d+\.tmp)?$/.test(f)) fs.rmSync(path.join(dir, f), { force: true });
}

// The build id the berth server compares with each front-end's (issue 13, protocol.md): made once per
// build tree; a front-end build that compiles it in writes it first, and this keeps that one.
function buildId() {
  const file = path.join(DIST, 'build-id');
  if (!fs.existsSync(file)) fs.writeFileSync(file, `${require('../package.json').version}-${require('node:crypto').randomBytes(8).toString('hex')}\n`);
}

async function main() {
  buildId();
  const plugins = path.join(DIST, 'plugins');
  prepare(plugins);
  for (const [name, mod] of Object.entries(PLUGINS)) {
    const entry = [
      `const { runPlugin } = require('./lib/cni/skel.js');`,
      `const { plugin, ABOUT } = require('./lib/cni/${mod}.js');`,
      'runPlugin(plugin, ABOUT);',
    ].join('\n');
    await bundle(entry, path.join(plugins, `${name}.js`), { plugins: [netlinkAddon(plugins)] });
  }
  const cli = path.join(DIST, 'cli');
  prepare(cli);
  await bundle(`module.exports = require('./lib/runtime/cli/lifecycle.js');`, path.join(cli, 'lifecycle.js'),
    { external: ['netlink', 'etcd3', 'tar-stream'] });
  console.log(`bundled ${Object.keys(PLUGINS).length} CNI plugins into dist/plugins/ and the CLI's lifecycle commands into dist/cli/`);
}

main().catch((e) => {
  console.error(`bundle: ${e.message}`);
  process.exit(1);
});
