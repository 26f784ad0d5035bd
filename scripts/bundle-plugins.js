#!/usr/bin/env node
// Build step after tsc (npm run build:plugins): bundles each CNI plugin (bin/berth-<plugin>) with esbuild
// into one file, dist/plugins/berth-<plugin>.js, so a plugin call reads and compiles one file instead of
// about forty modules (see lib/cni/plugins/launch.ts, which picks the bundle while it is fresh and keeps
// V8 code caches beside it).
// The `netlink` package is bundled too, but its addon is required by a path fixed here at build time
// instead of through node-gyp-build, which would search node_modules on every start.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const esbuild = require('esbuild');
const nodeGypBuild = require('node-gyp-build');

const ROOT = path.join(__dirname, '..');
const DIST = path.join(ROOT, 'dist');
const OUT = path.join(DIST, 'plugins');
const { PLUGINS } = require(path.join(DIST, 'lib', 'cni', 'plugins', 'launch.js'));

// netlink/dist/raw.js loads its addon with this line; a new netlink version that changes it fails here
const NETLINK_LOAD = "require('node-gyp-build')(__dirname + '/..')";

const netlinkAddon = {
  name: 'netlink-addon',
  setup(build) {
    build.onLoad({ filter: /[\\/]netlink[\\/]dist[\\/]raw\.js$/ }, (args) => {
      const src = fs.readFileSync(args.path, 'utf8');
      if (!src.includes(NETLINK_LOAD)) throw new Error(`${args.path}: addon loading changed (no ${NETLINK_LOAD})`);
      // the addon node-gyp-build would pick now, relative to the bundle (__dirname at run time)
      const addon = path.relative(OUT, nodeGypBuild.path(path.join(path.dirname(args.path), '..')));
      return { contents: src.replace(NETLINK_LOAD, `require(require('path').join(__dirname, ${JSON.stringify(addon)}))`), loader: 'js' };
    });
  },
};

async function main() {
  fs.mkdirSync(OUT, { recursive: true });
  // code caches of the previous bundles (launch.ts writes them per verb): never valid for new ones
  for (const f of fs.readdirSync(OUT)) if (/\.v8cache(\.\d+\.tmp)?$/.test(f)) fs.rmSync(path.join(OUT, f), { force: true });
  for (const [name, mod] of Object.entries(PLUGINS)) {
    const entry = [
      `const { runPlugin } = require('./lib/cni/skel.js');`,
      `const { plugin, ABOUT } = require('./lib/cni/${mod}.js');`,
      'runPlugin(plugin, ABOUT);',
    ].join('\n');
    const out = path.join(OUT, `${name}.js`);
    const { metafile } = await esbuild.build({
      stdin: { contents: entry, resolveDir: DIST, sourcefile: `${name}-entry.js`, loader: 'js' },
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      outfile: out,
      plugins: [netlinkAddon],
      metafile: true,
      absWorkingDir: ROOT,
      logLevel: 'warning',
    });
    // what the bundle was made from, for launch.ts's freshness check: the modules and the netlink addon
    const inputs = Object.keys(metafile.inputs).filter((f) => !f.startsWith('<stdin>') && !f.endsWith('-entry.js'))
      .map((f) => path.relative(OUT, path.resolve(ROOT, f)));
    inputs.push(path.relative(OUT, nodeGypBuild.path(path.join(ROOT, 'node_modules', 'netlink'))));
    fs.writeFileSync(path.join(OUT, `${name}.inputs.json`), JSON.stringify(inputs) + '\n');
  }
  console.log(`bundled ${Object.keys(PLUGINS).length} CNI plugins into ${path.relative(ROOT, OUT)}/`);
}

main().catch((e) => {
  console.error(`bundle-plugins: ${e.message}`);
  process.exit(1);
});
