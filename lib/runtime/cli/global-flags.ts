// The flags before the command, as runc's. Their own module: the server and its auto-start parse them
// without loading the whole command table (which would close an import cycle through lib/server).
import type { FlagSpec } from '../../util/command-line';

export const GLOBAL_FLAGS: FlagSpec = {
  root: { value: true, arg: 'DIR', default: '/run/berth', help: 'root directory for storage of container state' },
  log: { value: true, arg: 'FILE', help: 'append log lines to FILE (errors also go to stderr)' },
  'log-format': { value: true, arg: 'text|json', default: 'text', help: 'the log format' },
  debug: { value: false, help: 'enable debug logging' },
  'systemd-cgroup': { value: false, help: 'refused: berth places cgroups itself (cgroupfs paths)' },
  version: { value: false, alias: 'v', help: 'print the version' },
  criu: { value: true, help: 'accepted for runc compatibility, unused (no checkpoint/restore)' },
  rootless: { value: true, help: 'accepted for runc compatibility, unused' },
};
