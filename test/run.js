#!/usr/bin/env node
// Runs the compiled tap tests and ends with the plain "N passed, N failed" line CI reads.
// Counts named subtests (t.test blocks); a test file that dies without reporting one counts as one failure.
'use strict';
const { spawn } = require('node:child_process');
const path = require('node:path');
const fs = require('node:fs');

const root = path.resolve(__dirname, '..');
const suites = process.argv.slice(2).filter((a) => !a.startsWith('-'));
// --warm: the tests exec the native front-ends (dist/bin) with auto-start allowed, so each root the tests use
// gets a berth server; every server started is stopped at the end, by pid (helpers/frontend.ts finds them)
const warm = process.argv.includes('--warm');
const extra = process.argv.slice(2).filter((a) => a.startsWith('-') && a !== '--warm');
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
  env: warm ? warmEnv() : { ...process.env, BERTH_NO_AUTOSTART: process.env.BERTH_NO_AUTOSTART ?? '1' },
});
function warmEnv() {
  process.env.BERTH_TEST_FRONTEND = '1';
  process.env.BERTH_TEST_WARM = '1';
  process.env.BERTH_TEST_RUN = `${process.pid}-${Date.now()}`;
  delete process.env.BERTH_NO_SERVER;
  delete process.env.BERTH_NO_AUTOSTART;
  return process.env;
}
function stopServers() {
  if (!warm) return 0;
  const { testServers, stopTestServers } = require(path.join(root, 'dist', 'test', 'helpers', 'frontend.js'));
  const servers = testServers();
  const n = servers.length;
  const roots = servers.map(serverRoot).filter(Boolean);
  stopTestServers();
  // a root that holds nothing but the log of a server this run started (the default /run/berth, say) goes
  removeLogOnlyRoots(roots);
  const left = testServers();
  if (left.length) console.log(`berth servers left running: ${left.join(' ')}`);
  console.log(`warm mode: ${n} berth server(s) stopped`);
  return left.length;
}
function serverRoot(pid) {
  try {
    const argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    const i = argv.indexOf('--root');
    return i >= 0 ? argv[i + 1] : '/run/berth';
  } catch {
    return undefined;
  }
}
function removeLogOnlyRoots(roots) {
  for (const dir of new Set(roots)) {
    try {
      if (fs.readdirSync(dir).join() !== 'serve.log') continue;
      fs.rmSync(path.join(dir, 'serve.log'));
      fs.rmdirSync(dir);
    } catch { /* in use or gone */ }
  }
}
let passed = 0;
let failed = 0;
let fileFailures = 0;
let currentFile = '';
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
  const file = /^# Subtest: (\S+\.test\.js)$/.exec(l);
  if (file) currentFile = path.basename(file[1], '.test.js');
  let m = /^ {4}(not )?ok \d+ - (.*?)( # .*)?$/.exec(l);
  if (m) {
    if (m[1]) { failed++; fileFailures++; failures.push(`${currentFile}: ${m[2]}`); } else passed++;
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
  if (stopServers() > 0) failed++;
  // tap itself failed (its build, a crash) with every test it reported passing, or none reported: a failure
  if (code !== 0 && failed === 0) { failed++; failures.push(`tap exited with status ${code}`); }
  if (failures.length) {
    console.log('\nFailed:');
    for (const f of failures) console.log(`  - ${f}`);
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed > 0 || code !== 0 ? 1 : 0);
});
