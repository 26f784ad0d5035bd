#!/usr/bin/env node
// The whole test run: every tap test on this machine (test/run.js), then the cgroup tests again inside a
// QEMU guest of Debian's kernel (test/vm/run.sh): pure cgroup v2, and the IPIP tunnels this kernel lacks. Ends with one "N passed, N failed" line for both.
// With arguments, runs only those suites here (no VM).
'use strict';
const { spawn } = require('node:child_process');
const path = require('node:path');

function runPart(cmd, args) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: path.resolve(__dirname, '..'), stdio: ['ignore', 'pipe', 'inherit'] });
    let last = null;
    let buf = '';
    child.stdout.on('data', (d) => {
      process.stdout.write(d);
      buf += d;
      const lines = buf.split('\n');
      buf = lines.pop();
      for (const l of lines) {
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
  const parts = [await runPart(process.execPath, [path.join(__dirname, 'run.js'), ...args])];
  if (args.length === 0 && process.env.BERTH_SKIP_VM !== '1') {
    console.log('\n# QEMU guest (Debian kernel, cgroup_no_v1=all): the cgroup tests again, and IPIP (privileged/encap-ipip)');
    parts.push(await runPart('sh', [path.join(__dirname, 'vm', 'run.sh')]));
  }
  const passed = parts.reduce((n, p) => n + p.passed, 0);
  const failed = parts.reduce((n, p) => n + p.failed, 0);
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed > 0 ? 1 : 0);
})();
