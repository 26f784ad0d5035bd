#!/usr/bin/env node
// npm's "install" script of the packed package (npm pack ships dist/ prebuilt, see "prepack"): builds what
// depends on this machine and on where the package landed: the addon and berth-pause (node-gyp, native/),
// then the native front-ends (scripts/frontends.js), which compile in this installation's path.
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

if (!fs.existsSync(path.join(ROOT, 'tsconfig.json'))) {
  nodeGyp(['rebuild', '-C', 'native']);
  try {
    execFileSync(process.execPath, [path.join(__dirname, 'frontends.js')], { cwd: ROOT, stdio: 'inherit' });
  } catch {
    // no C compiler for a static front-end: berth runs from bin/ (Node), `berth install cni` writes wrappers
    console.warn('berth: native front-ends not built; the Node entry points are used');
  }
}
