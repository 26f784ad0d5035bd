// Test fixtures on top of lib/overlayfs/builder: a sample multi-layer image with its expected tree, and a
// re-exec into a private mount namespace.
import { reexecIsolated } from './isolate';
import type { LayerSpec } from '../../lib/overlayfs/builder';

export * from '../../lib/overlayfs/builder';

export function sampleLayers(): LayerSpec[] {
  return [
    {
      gzip: true,
      entries: [
        { name: 'bin/', type: 'directory' },
        { name: 'bin/tool', content: '#!/bin/sh\necho v1\n', mode: 0o755 },
        { name: 'bin/suid', content: 'suid\n', mode: 0o4755 },
        { name: 'etc/', type: 'directory' },
        { name: 'etc/passwd', content: 'root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000::/home/user:/bin/sh\n' },
        { name: 'etc/hostname', content: 'base\n' },
        { name: 'data/', type: 'directory', mode: 0o750 },
        { name: 'data/old1', content: 'old1\n' },
        { name: 'data/old2', content: 'old2\n' },
        { name: 'home/', type: 'directory' },
        { name: 'home/user/', type: 'directory', mode: 0o700, uid: 1000, gid: 1000 },
        { name: 'home/user/notes', content: 'private\n', mode: 0o600, uid: 1000, gid: 1000 },
        { name: 'tmp/', type: 'directory', mode: 0o1777 },
        { name: 'gone.txt', content: 'to be deleted\n' },
      ],
    },
    {
      gzip: false,
      entries: [
        { name: 'bin/tool', content: '#!/bin/sh\necho v2\n', mode: 0o755 },
        { name: '.wh.gone.txt' },
        { name: 'data/', type: 'directory', mode: 0o750 },
        { name: 'data/.wh..wh..opq' },
        { name: 'data/new', content: 'new\n' },
        { name: 'new/', type: 'directory' },
        { name: 'new/added', content: 'added\n', uid: 1000, gid: 100 },
        { name: 'new/hardlink', type: 'link', linkname: 'new/added' },
        { name: 'new/symlink', type: 'symlink', linkname: '../etc/passwd' },
        { name: 'new/pipe', type: 'fifo', mode: 0o640 },
        { name: 'new/xattr', content: 'with xattr\n', pax: { 'SCHILY.xattr.user.berth': 'hello' } },
        { name: 'dev/', type: 'directory' },
        { name: 'dev/nullish', type: 'character-device', mode: 0o666, devmajor: 1, devminor: 3 },
      ],
    },
  ];
}

export interface ExpectedNode {
  type: 'file' | 'dir' | 'symlink' | 'char' | 'fifo';
  mode: number;
  uid?: number;
  gid?: number;
  content?: string;
  link?: string;
  rdev?: [number, number];
  xattrs?: Record<string, string>;
}

/** What the merged view of sampleLayers() must show (the root directory excluded). */
export function sampleExpected(): Record<string, ExpectedNode> {
  return {
    'bin': { type: 'dir', mode: 0o755 },
    'bin/tool': { type: 'file', mode: 0o755, content: '#!/bin/sh\necho v2\n' },
    'bin/suid': { type: 'file', mode: 0o4755, content: 'suid\n' },
    'etc': { type: 'dir', mode: 0o755 },
    'etc/passwd': { type: 'file', mode: 0o644, content: 'root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000::/home/user:/bin/sh\n' },
    'etc/hostname': { type: 'file', mode: 0o644, content: 'base\n' },
    'data': { type: 'dir', mode: 0o750 },
    'data/new': { type: 'file', mode: 0o644, content: 'new\n' },
    'home': { type: 'dir', mode: 0o755 },
    'home/user': { type: 'dir', mode: 0o700, uid: 1000, gid: 1000 },
    'home/user/notes': { type: 'file', mode: 0o600, uid: 1000, gid: 1000, content: 'private\n' },
    'tmp': { type: 'dir', mode: 0o1777 },
    'new': { type: 'dir', mode: 0o755 },
    'new/added': { type: 'file', mode: 0o644, uid: 1000, gid: 100, content: 'added\n' },
    'new/hardlink': { type: 'file', mode: 0o644, uid: 1000, gid: 100, content: 'added\n' },
    'new/symlink': { type: 'symlink', mode: 0o777, link: '../etc/passwd' },
    'new/pipe': { type: 'fifo', mode: 0o640 },
    'new/xattr': { type: 'file', mode: 0o644, content: 'with xattr\n', xattrs: { 'user.berth': 'hello' } },
    'dev': { type: 'dir', mode: 0o755 },
    'dev/nullish': { type: 'char', mode: 0o666, rdev: [1, 3] },
  };
}

/**
 * Re-runs this test file in a private mount namespace (`unshare -m --propagation private`) so that every
 * mount it makes vanishes with it, even if it crashes. Call before importing tap: the parent prints nothing
 * and exits with the child's status (isolate.ts).
 */
export function reexecInPrivateMountNamespace(): void {
  reexecIsolated();
}
