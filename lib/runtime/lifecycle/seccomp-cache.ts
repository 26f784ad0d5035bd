// Compiled seccomp programs by profile object: a program starting many containers from one cached spec
// (spec-loader.ts) compiles its profile once.
import type { LinuxSeccomp } from '../spec/types';
import { seccomp } from './modules';

export interface CompiledSeccomp {
  filter: Buffer;
  flags: number;
}

const cache = new WeakMap<LinuxSeccomp, CompiledSeccomp>();

export function compiledSeccomp(profile: LinuxSeccomp | undefined): CompiledSeccomp | null {
  if (!profile) return null;
  let c = cache.get(profile);
  if (!c) {
    const compiled = seccomp().compileSeccomp(profile);
    c = { filter: compiled.filter, flags: compiled.flags };
    cache.set(profile, c);
  }
  return c;
}
