// The bootstrap as a static library (native/binding.gyp's berth_bootstrap) linked into a plain C program
// with no N-API, as the native front-end will use it: decode the plan's bytes, fork, answer the sync
// protocol. Both launches: direct (nothing to join) and through stage 1 (a namespace to join).
import t from 'tap';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import type { LaunchPlan } from '../../lib/runtime/launch-plan';
import { encodePlan } from '../../lib/runtime/plan-codec';
import { MSG, STEP_LOOKUP } from '../../lib/runtime/bootstrap-steps';
import { buildC, REPO } from '../helpers/cc';

const LIB = 'build/Release/berth_bootstrap.a';
const CLONE_NEWNET = 0x40000000;
const launcher = buildC('plan-launch', fs.readFileSync(path.join(REPO, 'test', 'native', 'plan-launch.c'), 'utf8'), [], [LIB]);
t.teardown(() => launcher.cleanup());

function plan(args: string[], join: LaunchPlan['join'] = []): LaunchPlan {
  return {
    cloneFlags: 0, newUserns: false, join, timeOffsets: null,
    rootfs: null, rootPropagation: 0, noPivot: false, readonlyRoot: false, pauseAfterMounts: false,
    mounts: [], devices: [], defaultLinks: false, maskedPaths: [], readonlyPaths: [], hostname: null,
    domainname: null, sysctlPaths: [], sysctlValues: [],
    args, env: ['PATH=/usr/bin:/bin'], cwd: '/', uid: 0, gid: 0, additionalGids: [], setGroups: false,
    umask: -1, rlimits: [], capabilities: null, noNewPrivileges: false, oomScoreAdj: null, personality: -1,
    seccomp: null, seccompFlags: 0, terminal: false, consoleSocketFd: -1, consoleRows: 0, consoleCols: 0,
    execFifo: null, preserveFds: 0, stdio: [-1, -1, -1], createContainerHooks: [], startContainerHooks: [],
    setsid: true, cgroupTasks: [], cgroupV2: null, waitPlaced: true,
  };
}

const run = (p: LaunchPlan) => execFileSync(launcher.exe, { input: encodePlan(p), encoding: 'utf8' }).trim().split('\n');

t.test('direct: the container process runs the plan and exits with its status', async (t) => {
  const out = run(plan(['sh', '-c', 'echo from-container; exit 3']));
  t.ok(out.includes('from-container'), 'the program ran, found on PATH');
  t.ok(out.some((l) => l.startsWith(`msg ${MSG.READY} `)), 'READY was reported');
  t.equal(out.at(-1), 'exit 3', 'its exit status');
});

t.test('through stage 1: joins a namespace, reports the pid, then runs', async (t) => {
  const out = run(plan(['sh', '-c', 'echo joined; exit 4'], [{ type: CLONE_NEWNET, path: '/proc/self/ns/net' }]));
  t.ok(out.some((l) => /^msg 2 [1-9]\d* /.test(l)), 'stage 1 reported the container pid');
  t.ok(out.includes('joined'), 'the program ran');
  t.equal(out.at(-1), 'exit 4', 'its exit status');
});

t.test('a failing step is reported with its number', async (t) => {
  const out = run(plan(['/nonexistent/program']));
  t.ok(out.some((l) => l.startsWith(`msg ${MSG.ERROR} ${STEP_LOOKUP} 2 `)), `ERROR at STEP_LOOKUP with ENOENT: ${out.join(' | ')}`);
  t.equal(out.at(-1), 'exit 127');
});
