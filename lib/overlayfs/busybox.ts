// A busybox image made from Debian's busybox-static: the lab's demo and tests start containers from it.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { BerthError } from '../util/errors';
import { buildImage, type BuiltImage, type TarEntry } from './builder';

export async function busyboxImage(busybox = '/bin/busybox'): Promise<BuiltImage> {
  if (!fs.existsSync(busybox)) throw new BerthError(`${busybox} not found: install Debian's busybox-static`);
  const applets = execFileSync(busybox, ['--list'], { encoding: 'utf8' }).split('\n').filter((a) => a && a !== 'busybox');
  const entries: TarEntry[] = [
    { name: 'bin/', type: 'directory', mode: 0o755 },
    { name: 'bin/busybox', content: fs.readFileSync(busybox), mode: 0o755 },
    ...applets.map((a): TarEntry => ({ name: `bin/${a}`, type: 'symlink', linkname: 'busybox' })),
    { name: 'etc/', type: 'directory', mode: 0o755 },
    { name: 'etc/passwd', content: 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n', mode: 0o644 },
    { name: 'etc/group', content: 'root:x:0:\nnogroup:x:65534:\n', mode: 0o644 },
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
