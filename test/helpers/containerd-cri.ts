// containerd 1.6 with its CRI plugin, as a Kubernetes node runs it, for tests: own root, state, socket
// and config in a temp dir, inside the calling test's private mount and network namespace (the "node").
// Runtime handlers are io.containerd.runc.v2 with a BinaryName each; the CNI config is the caller's, its
// plugins found in one bin dir of links (containerd 1.6 takes a single bin_dir). Images are imported
// into the k8s.io namespace (no pulls: there is no network), the sandbox image among them.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { launchContainerd, importBusybox, type Containerd } from './containerd';
import { writePauseDockerArchive } from './pause-image';

export const SANDBOX_IMAGE = 'berth.test/pause:1';

export interface CriContainerdOptions {
  /** handler name -> the runc-compatible binary the shim runs */
  handlers: Record<string, string>;
  /** the CNI conflist, written as the only config of the CRI's conf dir */
  conflist: { name: string; [k: string]: unknown };
  /** plugin name -> executable, linked into the bin dir */
  cniPlugins: Record<string, string>;
}

export interface CriContainerd extends Containerd {
  /** the CRI plugin's state (sandbox shm, resolv.conf, ...) and root (container metadata) dirs */
  criState: string;
  criRoot: string;
  log: string;
}

const CRI = 'io.containerd.grpc.v1.cri';

export async function startCriContainerd(dir: string, opts: CriContainerdOptions): Promise<CriContainerd> {
  // CRI creates pod network namespaces under /var/run/netns: a tmpfs, so that none reaches the host's
  fs.mkdirSync('/run/netns', { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', 'tmpfs', '/run/netns']);
  const confDir = path.join(dir, 'net.d');
  const binDir = path.join(dir, 'cni-bin');
  fs.mkdirSync(confDir);
  fs.mkdirSync(binDir);
  fs.writeFileSync(path.join(confDir, `10-${opts.conflist.name}.conflist`), JSON.stringify(opts.conflist));
  for (const [name, file] of Object.entries(opts.cniPlugins)) fs.symlinkSync(file, path.join(binDir, name));

  const q = (s: string) => JSON.stringify(s); // TOML basic strings take JSON's escapes
  const config = [
    'disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs"]',
    `[plugins.${q(CRI)}]`,
    `  sandbox_image = ${q(SANDBOX_IMAGE)}`,
    '  disable_apparmor = true',
    // a sandbox asks for oom_score_adj -998; lowering it needs CAP_SYS_RESOURCE, which a test machine (a
    // container, a VM's sandbox) may lack: keep it at containerd's own, as CRI offers for such nodes
    '  restrict_oom_score_adj = true',
    '  stream_server_address = "127.0.0.1"',
    '  stream_server_port = "0"',
    // ContainerStats' writable layer comes from a snapshot usage scan, every 10 s by default
    '  stats_collect_period = 1',
    `[plugins.${q(CRI)}.containerd]`,
    '  snapshotter = "overlayfs"',
    `  default_runtime_name = ${q(Object.keys(opts.handlers)[0])}`,
    ...Object.entries(opts.handlers).flatMap(([name, binary]) => [
      `[plugins.${q(CRI)}.containerd.runtimes.${q(name)}]`,
      '  runtime_type = "io.containerd.runc.v2"',
      `[plugins.${q(CRI)}.containerd.runtimes.${q(name)}.options]`,
      `  BinaryName = ${q(binary)}`,
    ]),
    `[plugins.${q(CRI)}.cni]`,
    `  bin_dir = ${q(binDir)}`,
    `  conf_dir = ${q(confDir)}`,
    '  max_conf_num = 1',
  ];
  const containerd = await launchContainerd(dir, config, 'k8s.io');
  const fail = async (what: string): Promise<never> => {
    await containerd.stop();
    throw new Error(what);
  };
  await importBusybox(containerd, dir);
  await writePauseDockerArchive(path.join(dir, 'pause.tar'), SANDBOX_IMAGE);
  const imported = await containerd.ctr(['images', 'import', path.join(dir, 'pause.tar')]);
  if (imported.code !== 0) await fail(`ctr images import (sandbox image): ${imported.stderr}`);
  return {
    ...containerd,
    criState: path.join(dir, 'state', CRI),
    criRoot: path.join(dir, 'root', CRI),
    log: path.join(dir, 'containerd.log'),
  };
}
