// Runs containers for tests through the library and captures their output in files.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import * as c from '../../lib/runtime/container';
import type { Spec } from '../../lib/runtime/spec/types';
import { baseSpec, makeRootfs, uniqueId } from './bundle';
import { cold, program } from './frontend';

let sharedRootfs: string | undefined;

/** One busybox rootfs per test process, removed at exit. */
export function rootfs(): string {
  if (!sharedRootfs) {
    sharedRootfs = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-rootfs-'));
    makeRootfs(sharedRootfs);
    fs.chmodSync(sharedRootfs, 0o755); // mkdtemp makes 0700: other users in the container need to enter /
    const dir = sharedRootfs;
    process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  }
  return sharedRootfs;
}

export interface TestBundle {
  dir: string;
  root: string;
  spec: Spec;
  write(): void;
  cleanup(): void;
}

/** A bundle whose root.path points at the shared rootfs; `edit` adjusts the spec before it is written. */
export function bundle(args: string[], edit?: (s: Spec) => void): TestBundle {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-test-'));
  fs.chmodSync(dir, 0o755); // a container root in a user namespace must reach its exec fifo
  const spec = baseSpec(args);
  spec.root = { path: rootfs(), readonly: false };
  edit?.(spec);
  const b: TestBundle = {
    dir,
    root: path.join(dir, 'state'),
    spec,
    write() { fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(b.spec, null, 2)); },
    cleanup() { fs.rmSync(dir, { recursive: true, force: true }); },
  };
  b.write();
  return b;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs args in a fresh container (create, start, wait, delete) and returns its exit code and output. */
export async function runIn(args: string[], edit?: (s: Spec) => void, opts: Partial<c.CreateOptions> = {}): Promise<RunResult> {
  const b = bundle(args, edit);
  try {
    return await runBundle(b, opts);
  } finally {
    b.cleanup();
  }
}

export async function runBundle(b: TestBundle, opts: Partial<c.CreateOptions> = {}): Promise<RunResult> {
  const out = path.join(b.dir, 'stdout');
  const err = path.join(b.dir, 'stderr');
  const o = fs.openSync(out, 'w');
  const e = fs.openSync(err, 'w');
  const i = fs.openSync('/dev/null', 'r');
  try {
    const code = await c.run({ id: uniqueId('t'), bundle: b.dir, root: b.root, stdio: [i, o, e], ...opts });
    return { code, stdout: fs.readFileSync(out, 'utf8'), stderr: fs.readFileSync(err, 'utf8') };
  } finally {
    fs.closeSync(o);
    fs.closeSync(e);
    fs.closeSync(i);
  }
}

/** bin/berth, or the native front-end with BERTH_TEST_FRONTEND=1 (helpers/frontend.ts). */
export const BERTH = program('berth');

/**
 * Runs the berth CLI; never rejects. Output goes through files, not pipes: a detached container keeps
 * the runtime's stdout/stderr open, and a pipe would then never reach end-of-file. `interpreter`: the node
 * binary to run it with (a copy, for attack tests) instead of bin/berth's own.
 */
export function berth(args: string[], input?: string, interpreter?: string): Promise<RunResult> {
  return interpreter ? command(interpreter, [cold('berth'), ...args], input) : command(BERTH, args, input);
}

/** Runs any program as berth() runs the CLI: runc on the same bundle as the control, for one. */
export function command(program: string, args: string[], input?: string): Promise<RunResult> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-cli-'));
  const out = fs.openSync(path.join(dir, 'out'), 'w+');
  const err = fs.openSync(path.join(dir, 'err'), 'w+');
  return new Promise<RunResult>((resolve) => {
    const child = spawn(program, args, { stdio: [input === undefined ? 'ignore' : 'pipe', out, err] });
    if (input !== undefined) child.stdin!.end(input);
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      const result = {
        code: code ?? 128 + (signal ? os.constants.signals[signal] : 0),
        stdout: fs.readFileSync(path.join(dir, 'out'), 'utf8'),
        stderr: fs.readFileSync(path.join(dir, 'err'), 'utf8'),
      };
      fs.closeSync(out);
      fs.closeSync(err);
      fs.rmSync(dir, { recursive: true, force: true });
      resolve(result);
    });
  });
}

/** Everything a failed or deleted container could leave: state dirs, mounts, cgroups named after it. */
export function leftovers(root: string, id: string): string[] {
  const found: string[] = [];
  if (fs.existsSync(path.join(root, id))) found.push(`state dir ${path.join(root, id)}`);
  for (const line of fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) if (line.includes(id)) found.push(`mount ${line}`);
  for (const ctrl of fs.readdirSync('/sys/fs/cgroup')) {
    const walk = (dir: string, depth: number) => {
      if (depth > 6) return;
      let entries: fs.Dirent[];
      try { entries = fs.readdirSync(dir, { withFileTypes: true }); } catch { return; }
      for (const e of entries) if (e.isDirectory()) {
        if (e.name.includes(id)) found.push(`cgroup ${path.join(dir, e.name)}`);
        walk(path.join(dir, e.name), depth + 1);
      }
    };
    walk(path.join('/sys/fs/cgroup', ctrl), 0);
  }
  return found;
}

/** The same as command(): a runtime's CLI (berth, or runc as the control). */
export const cli = command;
