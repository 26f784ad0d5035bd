#!/usr/bin/env node
// Build step after tsc (npm run build:bundles): with esbuild, bundles into one file each
//   - every CNI plugin (bin/berth-<plugin>): dist/plugins/berth-<plugin>.js, run by lib/cni/plugins/launch.ts;
//   - the whole CLI (bin/berth, and the cold path of the native front-end): dist/cli/berth.js, run by
//     lib/runtime/cli/entry.ts,
// so a call reads and compiles one file instead of dozens of modules. lib/util/bundle.ts runs a bundle
// through a V8 code cache per verb or command, kept beside it.
// Each bundle starts with a header line (lib/util/bundle.ts reads it): its content hash, which names its code
// caches (V8 checks a cache against the source's length only), and the files it is stale behind: tsc's
// build info (a plain `tsc -p .` after the bundle).
// Bundles are ASCII (esbuild escapes the rest), so that they can be read as latin1, with no UTF-8 decoding,
// and their code is written inside require()'s function wrapper (wrapCommonJs), so that it compiles as read.
// A plugin's netlink goes through berth's own addon (native/build, found from the installation root). The
// CLI bundle leaves the npm packages and its heavy command groups outside (they load from node_modules and
// dist/lib on use).
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const esbuild = require('esbuild');
const crypto = require('node:crypto');

const ROOT = path.join(__dirname, '..');
const DIST = path.join(ROOT, 'dist');
const { PLUGINS } = require(path.join(DIST, 'lib', 'cni', 'plugins', 'launch.js'));
const { wrapCommonJs } = require(path.join(DIST, 'lib', 'util', 'bundle.js'));

/**
 * esbuild's charset "ascii" escapes strings, regular expressions and names, but keeps comments as written:
 * what is left outside ASCII is in comments, where an escape reads as well (and would mean the same in a
 * string).
 */
function ascii(text) {
  return text.replace(/[^\0-\x7f]/gu, (c) => `\\u{${c.codePointAt(0).toString(16)}}`);
}

/**
 * Bundles `entry` (source text, resolved from dist/) into `out`, behind its header line. `after`: files
 * (absolute) that make the bundle stale when newer than it.
 */
async function bundle(entry, out, after, extra) {
  const outDir = path.dirname(out);
  const { outputFiles } = await esbuild.build({
    stdin: { contents: entry, resolveDir: DIST, sourcefile: `${path.basename(out, '.js')}-entry.js`, loader: 'js' },
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    charset: 'ascii',
    outfile: out,
    write: false,
    absWorkingDir: ROOT,
    logLevel: 'warning',
    ...extra,
  });
  const code = Buffer.from(wrapCommonJs(ascii(outputFiles[0].text)));
  const id = crypto.createHash('sha256').update(code).digest('hex').slice(0, 16);
  const header = `//berth-bundle ${JSON.stringify({ id, after: after.map((f) => path.relative(outDir, f)) })}\n`;
  // beside and rename: a process reading the old bundle now keeps it whole
  fs.writeFileSync(`${out}.tmp`, Buffer.concat([Buffer.from(header), code]));
  fs.renameSync(`${out}.tmp`, out);
}

/**
 * A fresh output directory's old code caches go (they never match new bundles), and what older builds kept
 * there: input lists (<name>.inputs.json) and the CLI's partial bundle (lifecycle.js).
 */
function prepare(dir) {
  fs.mkdirSync(dir, { recursive: true });
  for (const f of fs.readdirSync(dir)) {
    if (/\.v8cache(\.\d+\.tmp)?$|\.inputs\.json$|^lifecycle\.js$/.test(f)) fs.rmSync(path.join(dir, f), { force: true });
  }
}

/**
 * The CLI's heavy command groups, long-running or rare, stay out of its bundle: required from tsc's output
 * (dist/lib) at their place, they keep the bundle that every call reads half as large.
 */
const CLI_OUTSIDE = ['cni/agent/agent-command', 'cni/agent/bgp-command', 'lab/lab-cli', 'overlayfs/image-cli',
  'install/install-cni', 'server/cli'].map((m) => path.join(DIST, 'lib', `${m}.js`));

function leaveOutside(outDir) {
  return {
    name: 'leave-outside',
    setup(build) {
      build.onResolve({ filter: /^\.\.?\// }, (args) => {
        const target = path.resolve(args.resolveDir, args.path.endsWith('.js') ? args.path : `${args.path}.js`);
        if (!CLI_OUTSIDE.includes(target)) return undefined;
        return { path: `./${path.relative(outDir, target)}`, external: true };
      });
    },
  };
}

async function main() {
  const tsBuildInfo = path.join(DIST, '.tsbuildinfo');
  const plugins = path.join(DIST, 'plugins');
  prepare(plugins);
  for (const [name, mod] of Object.entries(PLUGINS)) {
    const entry = [
      `const { runPlugin } = require('./lib/cni/skel.js');`,
      `const { plugin, ABOUT } = require('./lib/cni/${mod}.js');`,
      'runPlugin(plugin, ABOUT);',
    ].join('\n');
    await bundle(entry, path.join(plugins, `${name}.js`), [tsBuildInfo], {});
  }
  const cli = path.join(DIST, 'cli');
  prepare(cli);
  // lib/runtime/cli/entry.ts wants main() and the auto-start hook, which loads only when called
  await bundle([
    `exports.main = require('./lib/runtime/cli/main.js').main;`,
    `exports.ensureServerFor = (argv) => require('./lib/server/autostart.js').ensureServerFor(argv);`,
  ].join('\n'), path.join(cli, 'berth.js'), [tsBuildInfo],
    { external: ['etcd3', 'tar-stream'], plugins: [leaveOutside(cli)] });
  for (const f of CLI_OUTSIDE) if (!fs.existsSync(f)) throw new Error(`${f}: missing (the CLI bundle requires it)`);
  console.log(`bundled ${Object.keys(PLUGINS).length} CNI plugins into dist/plugins/ and the CLI into dist/cli/berth.js`);
}

main().catch((e) => {
  console.error(`bundle: ${e.message}`);
  process.exit(1);
});
