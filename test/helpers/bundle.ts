// Test bundles: a busybox root filesystem (Debian's busybox-static) and a runc-like config.json.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { busyboxRootfs } from '../../lib/overlayfs/busybox';
import { defaultSpec } from '../../lib/runtime/spec/default';
import type { Spec } from '../../lib/runtime/spec/types';

/** Makes a busybox rootfs (lib/overlayfs/busybox). */
export function makeRootfs(dir: string): void {
  busyboxRootfs(dir);
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
