// Shared by the privileged cgroups tests (not a test file itself): cgroups below our own cgroup under a
// per-process parent, processes started inside them, and teardown that leaves nothing behind.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { addProcess, createCgroup, destroy, killAll, listPids, type CgroupHandle } from '../../lib/cgroups';
import type { LinuxResources } from '../../lib/runtime/spec/types';

export const PARENT = `berth-test-${process.pid}`;

interface Teardown {
  teardown(fn: () => unknown): void;
}

/** Removes the per-test parent directories when they are empty (ENOTEMPTY while another test runs). */
export function removeParents(h: CgroupHandle): void {
  for (const dir of new Set(Object.values(h.paths))) {
    try {
      fs.rmdirSync(path.dirname(dir));
    } catch {
      /* still in use by a sibling, or already gone */
    }
  }
}

const live = new Set<CgroupHandle>();
let signalsHooked = false;

/**
 * When tap times a file out it sends SIGTERM and no teardown runs: kill what is in our cgroups and remove
 * them synchronously, so even a timed-out run leaves nothing behind.
 */
function cleanupOnSignal(signal: NodeJS.Signals): void {
  for (const h of live) {
    for (const dir of new Set(Object.values(h.paths))) {
      const procs = fs.readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean);
      for (const pid of procs) {
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {
          /* gone */
        }
      }
    }
  }
  const deadline = Date.now() + 2000;
  for (const h of live) {
    for (const dir of new Set(Object.values(h.paths))) {
      while (fs.existsSync(dir)) {
        try {
          fs.rmdirSync(dir);
        } catch {
          if (Date.now() > deadline) break;
        }
      }
    }
    removeParents(h);
  }
  process.kill(process.pid, signal);
}

export async function testCgroup(t: Teardown, name: string, resources?: LinuxResources): Promise<CgroupHandle> {
  const h = await createCgroup({ containerId: name, cgroupsPath: `${PARENT}/${name}`, resources });
  if (!signalsHooked) {
    signalsHooked = true;
    process.once('SIGTERM', cleanupOnSignal);
    process.once('SIGINT', cleanupOnSignal);
  }
  live.add(h);
  t.teardown(async () => {
    live.delete(h);
    await killAll(h, 9).catch(() => undefined);
    for (let i = 0; i < 100 && (await listPids(h).catch(() => [])).length > 0; i++) await sleep(20);
    await destroy(h);
    removeParents(h);
  });
  return h;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface Started {
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output: () => string;
}

/**
 * Runs `script` with /bin/sh inside the cgroup: the shell waits for a line on stdin, which is sent only
 * after addProcess, so nothing in the script runs outside the cgroup.
 */
export async function runIn(t: Teardown, h: CgroupHandle, script: string): Promise<Started> {
  const child = spawn('/bin/sh', ['-c', `read _go; ${script}`], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  await addProcess(h, child.pid as number);
  child.stdin?.write('\n');
  return { child, exited, output: () => out };
}

/** Polls until `cond` is true or the time is up; returns the last value of cond. */
export async function waitFor(cond: () => Promise<boolean> | boolean, ms = 5000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond()) return true;
    await sleep(25);
  }
  return cond();
}

/** The promise's value, or undefined after `ms` (the timer does not hold the process open). */
export function within<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(undefined), ms);
    timer.unref();
    void p.then((v) => {
      clearTimeout(timer);
      resolve(v);
    });
  });
}
