// A CNI plugin verb in the server: the same callPlugin as the plugin binary's process (lib/cni/skel.ts),
// on the request's environment and descriptors, so results are the same bytes.
import fs = require('node:fs');
import path = require('node:path');
import { PLUGINS } from '../cni/plugins/launch';
import type { Plugin } from '../cni/skel';
import type { Stdio } from '../util/io';

export function isPlugin(program: string): boolean {
  return Object.hasOwn(PLUGINS, program);
}

/** All of `fd` until end of file, read on libuv's threadpool so a slow writer stalls no other request. */
function readAll(fd: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  return new Promise((resolve, reject) => {
    const next = (): void => {
      const buf = Buffer.alloc(65536);
      fs.read(fd, buf, 0, buf.length, null, (e, n) => {
        if (e) {
          // a closed stdin is an empty config, which the parser reports (as the cold path does)
          if (e.code === 'EOF' || e.code === 'EBADF') return resolve(Buffer.concat(chunks));
          if (e.code === 'EAGAIN') return void setTimeout(next, 2);
          return reject(e);
        }
        if (n === 0) return resolve(Buffer.concat(chunks));
        chunks.push(buf.subarray(0, n));
        next();
      });
    };
    next();
  });
}

export async function runPluginRequest(program: string, stdio: Stdio): Promise<number> {
  const skel = require('../cni/skel') as typeof import('../cni/skel');
  const { plugin, ABOUT } = require(path.join('..', 'cni', PLUGINS[program])) as { plugin: Plugin; ABOUT: string };
  return skel.callPlugin(plugin, ABOUT, {
    env: stdio.env,
    // a terminal is no config (someone trying the plugin by hand through the front-end)
    readStdin: () => (skel.isTerminal(stdio.in) ? Buffer.alloc(0) : readAll(stdio.in)),
    stdout: (t) => skel.writeFd(stdio.out, t),
    stderr: (t) => skel.writeFd(stdio.err, t),
  });
}
