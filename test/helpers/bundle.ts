// Test bundles: a busybox root filesystem (Debian's busybox-static) and a runc-like config.json.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { defaultSpec } from '../../lib/runtime/spec/default';
import type { Spec } from '../../lib/runtime/spec/types';

const BUSYBOX = '/bin/busybox';

let applets: string[] | undefined;

/** Makes a rootfs with busybox and its applets as symlinks, plus /etc/passwd and /etc/group. */
export function makeRootfs(dir: string): void {
  applets ??= execFileSync(BUSYBOX, ['--list'], { encoding: 'utf8' }).split('\n').filter(Boolean);
  for (const d of ['bin', 'dev', 'proc', 'sys', 'tmp', 'etc', 'root', 'home']) fs.mkdirSync(path.join(dir, d), { recursive: true });
  fs.copyFileSync(BUSYBOX, path.join(dir, 'bin', 'busybox'));
  fs.chmodSync(path.join(dir, 'bin', 'busybox'), 0o755);
  for (const a of applets) if (a !== 'busybox') fs.symlinkSync('busybox', path.join(dir, 'bin', a));
  fs.writeFileSync(path.join(dir, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n');
  fs.writeFileSync(path.join(dir, 'etc', 'group'), 'root:x:0:\nnogroup:x:65534:\n');
  fs.chmodSync(path.join(dir, 'tmp'), 0o1777);
}

/** runc's default spec (what `berth spec` writes), not interactive, running `args`. */
export function baseSpec(args: string[]): Spec {
  const spec = defaultSpec();
  spec.process!.terminal = false;
  spec.process!.args = args;
  spec.hostname = 'berth';
  spec.root!.readonly = false; // tests write into their containers
  return spec;
}

export interface Bundle {
  dir: string;
  root: string; // state root for this test
  spec: Spec;
  write(): void;
  cleanup(): void;
}

let counter = 0;

/** A bundle in a temp dir and a private state root; `cleanup` removes both. */
export function makeBundle(args: string[] = ['/bin/true'], rootfsCache?: string): Bundle {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-bundle-'));
  if (rootfsCache) fs.symlinkSync(rootfsCache, path.join(dir, 'rootfs'));
  else makeRootfs(path.join(dir, 'rootfs'));
  const root = path.join(dir, 'state');
  const b: Bundle = {
    dir,
    root,
    spec: baseSpec(args),
    write() { fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(b.spec, null, 2)); },
    cleanup() { fs.rmSync(dir, { recursive: true, force: true }); },
  };
  b.write();
  return b;
}

export function uniqueId(prefix: string): string {
  return `${prefix}-${process.pid}-${++counter}`;
}
