#!/usr/bin/env node
// The whole test run: the unit tests, the privileged suite twice (warm: through the native front-ends
// with a berth server per root, berth's default; cold: BERTH_NO_SERVER=1, the Node entry points), then a
// QEMU guest of Debian's kernel (test/vm/run.sh): the cgroup tests on pure cgroup v2, and the IPIP tunnels
// this kernel lacks. Ends with one "N passed, N failed" line for all of them. With arguments, runs only
// those suites here, once (no VM).
'use strict';
const { spawn } = require('node:child_process');
const path = require('node:path');

// each part's "Failed:" list, printed again at the very end: CI shows only the tail of a long log
const failures = [];

function runPart(cmd, args, env = process.env, label = '') {
  return new Promise((resolve) => {
    let inFailedList = false;
    const child = spawn(cmd, args, { cwd: path.resolve(__dirname, '..'), stdio: ['ignore', 'pipe', 'inherit'], env });
    let last = null;
    let buf = '';
    child.stdout.on('data', (d) => {
      process.stdout.write(d);
      buf += d;
      const lines = buf.split('\n');
      buf = lines.pop();
      for (const raw of lines) {
        const l = raw.replace(/\r$/, '');
        if (l === 'Failed:') inFailedList = true;
        else if (inFailedList && l.startsWith('  - ')) failures.push(label ? `  - ${label}: ${l.slice(4)}` : l);
        else inFailedList = false;
        const m = /^(?:\w+: )?(\d+) passed, (\d+) failed/.exec(l.trim());
        if (m) last = { passed: Number(m[1]), failed: Number(m[2]) };
      }
    });
    child.on('close', (code) => {
      const m = /^(?:\w+: )?(\d+) passed, (\d+) failed/.exec(buf.trim());
      if (m) last = { passed: Number(m[1]), failed: Number(m[2]) };
      // a part that died without its summary counts as one failure
      resolve(last ?? { passed: 0, failed: 1, code });
    });
  });
}

(async () => {
  const args = process.argv.slice(2);
  const runJs = path.join(__dirname, 'run.js');
  const parts = [];
  const part = async (label, cmd, argv, env) => {
    console.log(`\n# ${label}`);
    const started = Date.now();
    const p = await runPart(cmd, argv, env, /warm|cold|unit/.exec(label)[0]);
    console.log(`# ${label}: ${p.passed} passed, ${p.failed} failed in ${Math.round((Date.now() - started) / 1000)} s`);
    parts.push(p);
  };
  if (args.length) {
    parts.push(await runPart(process.execPath, [runJs, ...args]));
  } else {
    await part('unit', process.execPath, [runJs, 'unit']);
    await part('privileged, warm (front-ends and servers)', process.execPath, [runJs, '--warm', 'privileged']);
    await part('privileged, cold (BERTH_NO_SERVER=1)', process.execPath, [runJs, 'privileged'], { ...process.env, BERTH_NO_SERVER: '1' });
  }
  if (args.length === 0 && process.env.BERTH_SKIP_VM !== '1') {
    console.log('\n# QEMU guest (Debian kernel, cgroup_no_v1=all): the cgroup tests again, and IPIP (privileged/encap-ipip)');
    parts.push(await runPart('sh', [path.join(__dirname, 'vm', 'run.sh')], process.env, 'guest'));
  }
  const passed = parts.reduce((n, p) => n + p.passed, 0);
  const failed = parts.reduce((n, p) => n + p.failed, 0);
  if (failures.length) console.log(`\nFailed, every part:\n${failures.join('\n')}`);
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed > 0 ? 1 : 0);
})();
