// busybox from Debian's busybox-static, as a root filesystem directory or as an OCI image: the lab's demo,
// the benchmarks and the tests start containers from it.
import { execFileSync } from 'node:child_process';
import fs = require('node:fs');
import path = require('node:path');
import { BerthError } from '../util/errors';
import { buildImage, type BuiltImage, type TarEntry } from './builder';

export const BUSYBOX = process.env.BERTH_BUSYBOX ?? '/bin/busybox';

const PASSWD = 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n';
const GROUP = 'root:x:0:\nnogroup:x:65534:\n';

function applets(busybox: string): string[] {
  if (!fs.existsSync(busybox)) throw new BerthError(`${busybox} not found: install Debian's busybox-static`);
  return execFileSync(busybox, ['--list'], { encoding: 'utf8' }).split('\n').filter((a) => a && a !== 'busybox');
}

/** A root filesystem directory: the static binary, its applets as symlinks, /etc/passwd and /etc/group. */
export function busyboxRootfs(dir: string, busybox = BUSYBOX): void {
  for (const d of ['bin', 'dev', 'proc', 'sys', 'tmp', 'etc', 'root', 'home']) fs.mkdirSync(path.join(dir, d), { recursive: true });
  fs.copyFileSync(busybox, path.join(dir, 'bin', 'busybox'));
  fs.chmodSync(path.join(dir, 'bin', 'busybox'), 0o755);
  for (const a of applets(busybox)) fs.symlinkSync('busybox', path.join(dir, 'bin', a));
  fs.writeFileSync(path.join(dir, 'etc', 'passwd'), PASSWD);
  fs.writeFileSync(path.join(dir, 'etc', 'group'), GROUP);
  fs.chmodSync(path.join(dir, 'tmp'), 0o1777);
}

/** The same tree as a one-layer OCI image. */
export async function busyboxImage(busybox = BUSYBOX): Promise<BuiltImage> {
  const names = applets(busybox);
  const entries: TarEntry[] = [
    { name: 'bin/', type: 'directory', mode: 0o755 },
    { name: 'bin/busybox', content: fs.readFileSync(busybox), mode: 0o755 },
    ...names.map((a): TarEntry => ({ name: `bin/${a}`, type: 'symlink', linkname: 'busybox' })),
    { name: 'etc/', type: 'directory', mode: 0o755 },
    { name: 'etc/passwd', content: PASSWD, mode: 0o644 },
    { name: 'etc/group', content: GROUP, mode: 0o644 },
    { name: 'tmp/', type: 'directory', mode: 0o1777 },
    { name: 'root/', type: 'directory', mode: 0o700 },
    { name: 'proc/', type: 'directory', mode: 0o755 },
    { name: 'sys/', type: 'directory', mode: 0o755 },
    { name: 'dev/', type: 'directory', mode: 0o755 },
  ];
  return buildImage([{ entries, gzip: true }], {
    config: { Cmd: ['/bin/sh'], Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], WorkingDir: '/' },
  });
}
