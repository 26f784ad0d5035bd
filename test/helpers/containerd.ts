// containerd 1.6 for tests: started in the calling test's private mount and network namespace (see
// isolate.ts), state and sockets in a temp dir, the busybox image imported, stopped by its PID. The CRI
// variant (containerd-cri.ts) uses the same launch with its own plugin config.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { writeBusyboxDockerArchive } from './busybox-image';

export const IMAGE = 'docker.io/library/busybox:latest';

export interface Containerd {
  sock: string;
  /** ctr's own arguments for this daemon and the test namespace */
  args(rest: string[]): string[];
  ctr(rest: string[], timeoutMs?: number): Promise<{ code: number; stdout: string; stderr: string }>;
  stop(): Promise<void>;
}

/**
 * Starts containerd with `config` (TOML after the root, state and socket lines this writes) in dir;
 * `namespace` is the one ctr talks to. Call it from a test already in its own mount and network namespace.
 */
export async function launchContainerd(dir: string, config: string[], namespace: string): Promise<Containerd> {
  const sock = path.join(dir, 'containerd.sock');
  // the shim keeps runtime state under /run/containerd: a tmpfs in our private mount namespace
  fs.mkdirSync('/run/containerd', { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', 'tmpfs', '/run/containerd']);
  execFileSync('ip', ['link', 'set', 'lo', 'up']);
  fs.writeFileSync(path.join(dir, 'config.toml'), [
    'version = 2',
    `root = "${dir}/root"`,
    `state = "${dir}/state"`,
    ...config,
    '[grpc]', `  address = "${sock}"`, '[ttrpc]', `  address = "${sock}.ttrpc"`,
  ].join('\n'));
  const log = fs.openSync(path.join(dir, 'containerd.log'), 'w');
  const daemon: ChildProcess = spawn('containerd', ['--config', path.join(dir, 'config.toml')], { stdio: ['ignore', log, log] });
  fs.closeSync(log);
  for (let i = 0; i < 100 && !fs.existsSync(sock) && daemon.exitCode === null; i++) await new Promise((r) => setTimeout(r, 100));
  if (!fs.existsSync(sock)) throw new Error(`containerd did not start: ${fs.readFileSync(path.join(dir, 'containerd.log'), 'utf8').slice(-2000)}`);
  const args = (rest: string[]) => ['-a', sock, '-n', namespace, ...rest];
  const ctr: Containerd['ctr'] = (rest, timeoutMs = 60_000) => new Promise((resolve) => {
    execFile('ctr', args(rest), { encoding: 'utf8', timeout: timeoutMs }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
  const stop = async () => {
    if (daemon.pid && daemon.exitCode === null) {
      daemon.kill('SIGTERM');
      await new Promise((r) => daemon.once('exit', r));
    }
  };
  return { sock, args, ctr, stop };
}

/** Imports the busybox image (as IMAGE) into the daemon's namespace; stops the daemon if that fails. */
export async function importBusybox(containerd: Containerd, dir: string): Promise<void> {
  await writeBusyboxDockerArchive(path.join(dir, 'busybox.tar'), IMAGE);
  const imported = await containerd.ctr(['images', 'import', path.join(dir, 'busybox.tar')]);
  if (imported.code !== 0) {
    await containerd.stop();
    throw new Error(`ctr images import: ${imported.stderr}`);
  }
}

export async function startContainerd(dir: string): Promise<Containerd> {
  const containerd = await launchContainerd(dir, [
    'disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs"]',
  ], 'berth');
  await importBusybox(containerd, dir);
  return containerd;
}
