#!/usr/bin/env node
// npm's "preinstall" script of the packed package (npm pack ships dist/ prebuilt, see "prepack"): builds what
// depends on this machine and on where the package landed: the addon and berth-pause (node-gyp, native/),
// then the native front-ends (scripts/frontends.js), which compile in this installation's path.
// Then it fills dist/npm-bin/, what package.json's "bin" names: a link per program to its front-end
// (dist/bin/<program>), or to the Node entry (bin/<program>) where none could be built. npm links "bin" after
// preinstall (skipping a missing file), hence preinstall. npm pack ships every "bin" file that exists, and a
// checkout never has dist/npm-bin/, so no machine-built binary is packed.
// In a checkout (tsconfig.json beside package.json) it does nothing: `npm run build` builds everything there.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');

const ROOT = path.join(__dirname, '..');

function nodeGyp(args) {
  // npm hands its bundled node-gyp to lifecycle scripts as npm_config_node_gyp; else one on PATH
  const bundled = process.env.npm_config_node_gyp;
  if (bundled) execFileSync(process.execPath, [bundled, ...args], { cwd: ROOT, stdio: 'inherit' });
  else execFileSync('node-gyp', args, { cwd: ROOT, stdio: 'inherit' });
}

/** dist/npm-bin/<program> -> the program's front-end, else its Node entry point. */
function linkPathBins() {
  const npmBin = path.join(ROOT, 'dist', 'npm-bin');
  fs.mkdirSync(npmBin, { recursive: true });
  for (const program of fs.readdirSync(path.join(ROOT, 'bin'))) {
    const frontEnd = path.join(ROOT, 'dist', 'bin', program);
    const link = path.join(npmBin, program);
    fs.rmSync(link, { force: true });
    fs.symlinkSync(fs.existsSync(frontEnd) ? path.join('..', 'bin', program) : path.join('..', '..', 'bin', program), link);
  }
}

if (!fs.existsSync(path.join(ROOT, 'tsconfig.json'))) {
  nodeGyp(['rebuild', '-C', 'native']);
  try {
    execFileSync(process.execPath, [path.join(__dirname, 'frontends.js')], { cwd: ROOT, stdio: 'inherit' });
  } catch {
    // no C compiler for a front-end: "bin" then links the Node entry points, `berth install cni` writes wrappers
    console.warn('berth: native front-ends not built; the Node entry points are used');
  }
  linkPathBins();
}
