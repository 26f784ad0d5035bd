// Builds a small C program from sources of native/src for a test (gcc comes with build-essential,
// scripts/setup.sh), in a temporary directory the caller removes with cleanup().
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';

export const REPO = path.resolve(__dirname, '..', '..', '..');
export const NATIVE_SRC = path.join(REPO, 'native', 'src');

export interface Built {
  exe: string;
  cleanup(): void;
}

/**
 * `main` is the test's own C source (text); `sources` are paths under native/src compiled with it, `libs`
 * paths under native/ (a static library the native build made) linked after it.
 */
export function buildC(name: string, main: string, sources: string[] = [], libs: string[] = []): Built {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${name}-`));
  const mainFile = path.join(dir, `${name}.c`);
  fs.writeFileSync(mainFile, main);
  const exe = path.join(dir, name);
  try {
    execFileSync('cc', ['-std=gnu11', '-D_GNU_SOURCE', '-Wall', '-Wextra', '-Werror', '-Wno-unused-parameter', '-O1',
      `-I${NATIVE_SRC}`, `-I${path.join(REPO, 'test', 'native')}`, '-o', exe, mainFile, ...sources.map((s) => path.join(NATIVE_SRC, s)),
      ...libs.map((l) => path.join(REPO, 'native', l))], { stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    fs.rmSync(dir, { recursive: true, force: true }); // a source that does not compile leaves nothing behind
    throw e;
  }
  return { exe, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

export function runC(built: Built, args: string[] = [], input?: Buffer): string {
  return execFileSync(built.exe, args, { input, encoding: 'utf8', maxBuffer: 64 << 20 });
}
