#!/usr/bin/env node
// Runs the compiled tap tests and ends with the plain "N passed, N failed" line CI reads.
// Counts named subtests (t.test blocks); a test file that dies without reporting one counts as one failure.
'use strict';
const { spawn } = require('node:child_process');
const path = require('node:path');
const fs = require('node:fs');

const root = path.resolve(__dirname, '..');
const suites = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const extra = process.argv.slice(2).filter((a) => a.startsWith('-'));
const wanted = suites.length ? suites : ['unit', 'privileged'];

function testFiles(dir) {
  if (!fs.existsSync(dir)) return [];
  const out = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...testFiles(p));
    else if (e.name.endsWith('.test.js')) out.push(p);
  }
  return out.sort();
}

const files = [];
for (const s of wanted) {
  const p = path.join(root, 'dist', 'test', s);
  if (fs.existsSync(p) && fs.statSync(p).isFile()) files.push(p);
  else if (fs.existsSync(p + '.test.js')) files.push(p + '.test.js');
  else files.push(...testFiles(p));
}
if (files.length === 0) {
  console.error('no compiled tests found: run `npm run build` first');
  console.log('0 passed, 1 failed');
  process.exit(1);
}

const tap = path.join(root, 'node_modules', '.bin', 'tap');
const child = spawn(tap, ['--reporter=tap', ...extra, ...files.map((f) => path.relative(root, f))], {
  cwd: root,
  stdio: ['ignore', 'pipe', 'inherit'],
  // no test leaves a berth server behind: the server's own tests start and stop theirs by pid
  env: { ...process.env, BERTH_NO_AUTOSTART: process.env.BERTH_NO_AUTOSTART ?? '1' },
});
let passed = 0;
let failed = 0;
let fileFailures = 0;
const failures = [];
let buf = '';
child.stdout.on('data', (d) => {
  process.stdout.write(d);
  buf += d;
  let i;
  while ((i = buf.indexOf('\n')) >= 0) {
    line(buf.slice(0, i));
    buf = buf.slice(i + 1);
  }
});
function line(l) {
  let m = /^ {4}(not )?ok \d+ - (.*?)( # .*)?$/.exec(l);
  if (m) {
    if (m[1]) { failed++; fileFailures++; failures.push(m[2]); } else passed++;
    return;
  }
  m = /^(not )?ok \d+ - (.*?)( # .*)?$/.exec(l);
  if (m) {
    if (m[1] && fileFailures === 0) { failed++; failures.push(`${m[2]} (the file failed outside its tests)`); }
    fileFailures = 0;
  }
}
child.on('close', (code) => {
  if (buf) line(buf);
  if (failures.length) {
    console.log('\nFailed:');
    for (const f of failures) console.log(`  - ${f}`);
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed > 0 || code !== 0 ? 1 : 0);
});
