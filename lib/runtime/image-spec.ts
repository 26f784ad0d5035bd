// A config.json for a container started from an image: runc's default spec with the image's
// Entrypoint, Cmd, Env, WorkingDir and User applied, as docker and podman apply them.
import fs = require('node:fs');
import path = require('node:path');
import { ConfigError } from '../util/errors';
import type { ImageConfig } from '../overlayfs';
import { defaultSpec } from './spec/default';
import type { Spec } from './spec/types';

/** Resolves "uid", "uid:gid", "name" or "name:group" against the image's /etc/passwd and /etc/group. */
export function resolveUser(user: string | undefined, rootfs: string): { uid: number; gid: number } {
  if (!user) return { uid: 0, gid: 0 };
  const [u, g] = user.split(':');
  const lookup = (file: string, name: string): string[] | undefined => {
    try {
      return fs.readFileSync(path.join(rootfs, 'etc', file), 'utf8').split('\n').map((l) => l.split(':')).find((f) => f[0] === name);
    } catch {
      return undefined;
    }
  };
  let uid: number;
  let gid = 0;
  if (/^\d+$/.test(u)) {
    uid = Number(u);
  } else {
    const entry = lookup('passwd', u);
    if (!entry) throw new ConfigError('image User', `user "${u}" not found in the image's /etc/passwd`);
    uid = Number(entry[2]);
    gid = Number(entry[3]);
  }
  if (g !== undefined) {
    if (/^\d+$/.test(g)) gid = Number(g);
    else {
      const entry = lookup('group', g);
      if (!entry) throw new ConfigError('image User', `group "${g}" not found in the image's /etc/group`);
      gid = Number(entry[2]);
    }
  }
  return { uid, gid };
}

export function specFromImage(config: ImageConfig, rootfs: string, opts: { args?: string[]; hostname: string }): Spec {
  const spec = defaultSpec();
  const args = opts.args?.length ? [...(config.Entrypoint ?? []), ...opts.args] : [...(config.Entrypoint ?? []), ...(config.Cmd ?? [])];
  if (!args.length) throw new ConfigError('image', 'the image has no Entrypoint or Cmd: give a command');
  const env = new Map<string, string>();
  for (const e of [...spec.process!.env!, ...(config.Env ?? [])]) env.set(e.split('=')[0], e);
  spec.process!.args = args;
  spec.process!.env = [...env.values()];
  spec.process!.cwd = config.WorkingDir || '/';
  spec.process!.terminal = false;
  spec.process!.user = resolveUser(config.User, rootfs);
  spec.root = { path: rootfs, readonly: false };
  spec.hostname = opts.hostname;
  return spec;
}
