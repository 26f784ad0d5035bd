#!/usr/bin/env node
// Last build step (npm run build:frontends): writes dist/build-id and compiles the native front-ends
// (native/src/frontend.c, issue #13) into dist/bin/<program>, one per program: berth and each CNI plugin.
// Each one has compiled in its program name, this installation's path, the node that runs the cold path
// and the build id, so that a copy of it anywhere (/opt/cni/bin, containerd's BinaryName) works.
// The build id is a hash of what the server runs (dist/ JavaScript, the addon) and of the front-end's source:
// the same build gives the same id, and a server of any other build answers GO_COLD (protocol.md).
// Not a node-gyp target: the defines depend on the installation and on dist/, which exists only after tsc.
'use strict';
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');

const ROOT = path.join(__dirname, '..');
const DIST = path.join(ROOT, 'dist');
const SOURCE = path.join(ROOT, 'native', 'src', 'frontend.c');
// the container bootstrap the front-end runs from the server's plan: node-gyp's static library (no N-API)
const BOOTSTRAP = path.join(ROOT, 'native', 'build', 'Release', 'berth_bootstrap.a');
const { PLUGINS } = require(path.join(DIST, 'lib', 'cni', 'plugins', 'launch.js'));
const PROGRAMS = ['berth', ...Object.keys(PLUGINS)];

/** Every file below dir, sorted, for a stable hash. */
function files(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? files(p) : [p];
  }).sort();
}

function buildId() {
  const hash = crypto.createHash('sha256');
  const inputs = [
    path.join(ROOT, 'package.json'),
    SOURCE,
    BOOTSTRAP,
    path.join(ROOT, 'native', 'build', 'Release', 'berth_native.node'),
    ...['lib', 'plugins', 'cli'].flatMap((d) => files(path.join(DIST, d))).filter((f) => /\.(js|json)$/.test(f)),
  ];
  for (const f of inputs) {
    if (!fs.existsSync(f)) continue;
    hash.update(path.relative(ROOT, f)).update('\0').update(fs.readFileSync(f)).update('\0');
  }
  const { version } = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  return `${version}+${hash.digest('hex').slice(0, 16)}`;
}

/** A C string literal for a -D define (paths and ids: printable, no newlines). */
function cString(s) {
  if (/[\0-\x1f"\\]/.test(s)) throw new Error(`cannot compile in ${JSON.stringify(s)}`);
  return `"${s}"`;
}

/** Static when the C library allows (nothing to resolve at start), else dynamic. */
function compile(program, id, out) {
  const cc = process.env.CC || 'cc';
  const args = ['-std=gnu11', '-O2', '-Wall', '-Wextra', '-Werror', '-D_GNU_SOURCE',
    `-DBERTH_PROGRAM=${cString(program)}`, `-DBERTH_HOME_DIR=${cString(ROOT)}`,
    `-DBERTH_NODE_PATH=${cString(process.execPath)}`, `-DBERTH_BUILD_ID=${cString(id)}`,
    `-I${path.join(ROOT, 'native', 'src')}`, SOURCE, BOOTSTRAP, '-o', out];
  try {
    execFileSync(cc, [...args, '-static', '-s'], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch {
    execFileSync(cc, [...args, '-s'], { stdio: ['ignore', 'inherit', 'inherit'] });
  }
}

function main() {
  const id = buildId();
  const bin = path.join(DIST, 'bin');
  fs.mkdirSync(bin, { recursive: true });
  for (const program of PROGRAMS) {
    const out = path.join(bin, program);
    // compile beside and rename: a front-end running now keeps its file (no ETXTBSY, no torn binary)
    compile(program, id, `${out}.tmp`);
    fs.renameSync(`${out}.tmp`, out);
  }
  fs.writeFileSync(path.join(DIST, 'build-id.tmp'), id);
  fs.renameSync(path.join(DIST, 'build-id.tmp'), path.join(DIST, 'build-id'));
  console.log(`built ${PROGRAMS.length} front-ends into dist/bin/ (build id ${id})`);
}

// required (a test compiling a front-end of another build): compile() only
if (require.main === module) {
  try {
    main();
  } catch (e) {
    console.error(`frontends: ${e.message}`);
    process.exit(1);
  }
}

module.exports = { compile };
