// native/src/pause.c, the pod sandbox's process, as PID 1 of a new pid namespace (unshare --pid --fork):
// an orphan reparented to it is reaped when it exits, and SIGTERM or SIGINT ends it with status 0. The
// control is a PID 1 that neither reaps nor handles signals (busybox sleep): the orphan stays a zombie and
// SIGTERM is ignored, so both checks can tell a pause that works from one that does not.
import t, { type Test } from 'tap';
import * as fs from 'node:fs';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { PAUSE } from '../helpers/pause-image';
import { requireTools } from '../helpers/tools';
import { eventually } from '../helpers/netns';

const started: ChildProcess[] = [];

t.before(() => requireTools(['unshare', 'nsenter', 'busybox', PAUSE]));
t.teardown(() => {
  for (const c of started) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

const childrenOf = (pid: number): number[] => fs.readdirSync(`/proc/${pid}/task`)
  .flatMap((tid) => fs.readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number));
/** the state letter of /proc/PID/stat (after the parenthesised name, which may hold spaces) */
const stateOf = (pid: number): string => {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  } catch {
    return ''; // gone: reaped
  }
};

interface Init { unshare: ChildProcess; pid: number; exited: Promise<number | string> }

/** Starts argv as PID 1 of a new pid namespace; pid is its pid out here. */
async function startInit(t: Test, argv: string[]): Promise<Init> {
  // --kill-child: pause must not outlive unshare if the test is cut short
  const unshare = spawn('unshare', ['--pid', '--fork', '--kill-child', ...argv], { stdio: ['ignore', 'ignore', 'inherit'] });
  started.push(unshare);
  const exited = new Promise<number | string>((r) => unshare.once('exit', (code, sig) => r(code ?? String(sig))));
  let pid = 0;
  await eventually(() => {
    const [c] = childrenOf(unshare.pid!);
    // forked, and exec'd what we asked for (not still unshare)
    if (c && fs.readFileSync(`/proc/${c}/cmdline`, 'utf8').split('\0')[0] === argv[0]) pid = c;
    return pid !== 0;
  }, 5000);
  if (!pid) throw new Error(`${argv[0]} did not start as PID 1`);
  t.equal(fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(/^NSpid:\s+\d+\s+(\d+)$/m)?.[1], '1', `${argv[0]} is PID 1 inside`);
  return { unshare, pid, exited };
}

/**
 * Leaves an orphan in init's namespace: a shell started there backgrounds a long sleep and exits. The test
 * ends the orphan itself (a timed sleep could run out before a loaded machine looks at it). The sleep must
 * not hold our output pipe, or execFileSync would return only once it had exited.
 */
function orphanIn(init: Init): number {
  execFileSync('nsenter', ['-t', String(init.pid), '--pid', 'busybox', 'sh', '-c', 'busybox sleep 1000 </dev/null >/dev/null 2>&1 & exit 0']);
  const kids = childrenOf(init.pid);
  if (kids.length !== 1) throw new Error(`expected the orphan as init's only child, found ${JSON.stringify(kids)}`);
  return kids[0];
}

t.test('pause reaps an orphan that exits in its pid namespace; a non-reaping PID 1 keeps it a zombie', async (t) => {
  const pause = await startInit(t, [PAUSE]);
  const orphan = orphanIn(pause);
  // just forked, it may still be running on a loaded machine before it sleeps
  t.ok(await eventually(() => stateOf(orphan) === 'S', 3000), 'the orphan, reparented to pause, sleeps');
  process.kill(orphan, 'SIGKILL');
  t.ok(await eventually(() => stateOf(orphan) === '', 3000), 'once it exits, pause reaps it: no zombie left');
  t.same(childrenOf(pause.pid), [], 'pause has no children left');

  const control = await startInit(t, ['/bin/busybox', 'sleep', '1000']);
  const zombie = orphanIn(control);
  process.kill(zombie, 'SIGKILL');
  t.ok(await eventually(() => stateOf(zombie) === 'Z', 3000), 'control: under a PID 1 that does not reap, the orphan stays a zombie');
  control.unshare.kill('SIGKILL');
  process.kill(control.pid, 'SIGKILL');
  await control.exited;

  process.kill(pause.pid, 'SIGTERM');
  t.equal(await pause.exited, 0, 'SIGTERM: pause exits 0');
});

t.test('SIGINT ends pause with status 0; the same signal from outside is ignored by a PID 1 without a handler', async (t) => {
  const pause = await startInit(t, [PAUSE]);
  process.kill(pause.pid, 'SIGINT');
  t.equal(await pause.exited, 0, 'SIGINT: pause exits 0');

  const control = await startInit(t, ['/bin/busybox', 'sleep', '1000']);
  process.kill(control.pid, 'SIGTERM');
  const outcome = await Promise.race([control.exited, new Promise((r) => setTimeout(() => r('still running'), 500))]);
  t.equal(outcome, 'still running', 'control: SIGTERM does not end a PID 1 with no handler (so pause\'s exit is its own doing)');
  process.kill(control.pid, 'SIGKILL');
  await control.exited;
});
