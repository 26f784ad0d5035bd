// The lifecycle (lib/runtime/lifecycle/) reaches the kernel only through the Sys it is given: no file of
// it loads the addon, the launcher, lib/cgroups, the overlay store, the hook runner or the host mounts,
// itself or through the lazy loaders of modules.ts, whose kernel-side ones only real-sys.ts uses.
import t from 'tap';
import * as fs from 'node:fs';
import * as path from 'node:path';

const LIFECYCLE = path.resolve(__dirname, '..', '..', '..', 'lib', 'runtime', 'lifecycle');

/** What the lifecycle may load: pure planning, validation and formatting. */
const PURE_LOADERS = new Set(['lazy', 'plans', 'validation', 'seccomp', 'deviceRules', 'imageSpec', 'network']);
/** network.ts also attaches networks: the lifecycle may use only its pure part. */
const PURE_NETWORK = new Set(['etcFiles']);
/** Modules that touch the kernel or the host, by their path below lib/ (a folder: everything in it). */
const KERNEL_SIDE = ['sys/native', 'runtime/launcher', 'runtime/host-mounts', 'runtime/host-hooks', 'runtime/home', 'runtime/exec-fifo', 'runtime/console-socket', 'runtime/real-sys', 'cgroups', 'overlayfs', 'cni'];

/** The kernel-side modules among a lifecycle file's static imports and require() calls. */
function kernelSide(text: string): string[] {
  const targets = [...text.matchAll(/(?:^import (?!type )[^;]*? from |require\()'(\.[^']+)'/gm)].map((m) => path.posix.join('runtime/lifecycle', m[1]));
  return targets.filter((p) => KERNEL_SIDE.some((k) => p === k || p.startsWith(`${k}/`)));
}

const files = fs.readdirSync(LIFECYCLE).filter((f) => f.endsWith('.ts')).map((f) => ({ name: f, text: fs.readFileSync(path.join(LIFECYCLE, f), 'utf8') }));

t.test('no lifecycle file imports or requires a kernel-side module', async (t) => {
  t.ok(files.length >= 10, `${files.length} lifecycle files`);
  for (const f of files.filter((x) => x.name !== 'modules.ts')) {
    t.same(kernelSide(f.text), [], `${f.name}: loads only pure modules`);
    t.notMatch(f.text, /\bnative\(\)/, `${f.name}: no addon call`);
  }
});

t.test('the lifecycle uses only the pure loaders of modules.ts', async (t) => {
  for (const f of files.filter((x) => x.name !== 'modules.ts')) {
    const imported = /import \{([^}]*)\} from '\.\/modules'/.exec(f.text)?.[1].split(',').map((s) => s.trim()).filter(Boolean) ?? [];
    t.same(imported.filter((n) => !PURE_LOADERS.has(n)), [], `${f.name}: ${imported.join(', ') || 'none'}`);
    for (const m of f.text.matchAll(/\bnetwork\(\)\.(\w+)/g)) t.ok(PURE_NETWORK.has(m[1]), `${f.name}: network().${m[1]} is pure`);
  }
});

t.test('the seam\'s own check catches a direct addon call (a planted file)', async (t) => {
  const planted = [
    "import { native } from '../../sys/native';",
    "import type { CgroupHandle } from '../../cgroups';",
    "import { plans } from './modules';",
    "const m = (require('../host-mounts') as typeof import('../host-mounts'));",
    "const c = require('../../cgroups/freezer');",
  ].join('\n');
  t.same(kernelSide(planted), ['sys/native', 'runtime/host-mounts', 'cgroups/freezer'], 'type-only imports and pure modules pass');
});
