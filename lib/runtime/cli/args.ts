// A small parser for runc's command line (urfave/cli conventions): `--flag value`, `--flag=value`,
// `-flag value`, booleans without a value, global flags before the command. No dependency, no start-up cost.
import { BerthError } from '../../util/errors';

export interface FlagSpec {
  /** true: takes a value; false: boolean */
  [name: string]: { value: boolean; repeat?: boolean; alias?: string };
}

export interface Parsed {
  flags: Record<string, string | boolean | string[]>;
  positional: string[];
}

/** Parses flags until the first positional argument (or `--`); the rest is positional, untouched. */
export function parseFlags(argv: string[], spec: FlagSpec, where: string, stopAtPositional = true): Parsed {
  const flags: Parsed['flags'] = {};
  const positional: string[] = [];
  const byName = new Map<string, string>();
  for (const [name, s] of Object.entries(spec)) {
    byName.set(name, name);
    if (s.alias) byName.set(s.alias, name);
  }
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') { i++; break; }
    if (!a.startsWith('-') || a === '-') {
      if (stopAtPositional) break;
      positional.push(a);
      continue;
    }
    const body = a.replace(/^--?/, '');
    const eq = body.indexOf('=');
    const key = eq >= 0 ? body.slice(0, eq) : body;
    const name = byName.get(key);
    if (!name) throw new BerthError(`flag provided but not defined: -${key}`, { field: where });
    const s = spec[name];
    let value: string | boolean;
    if (s.value) {
      if (eq >= 0) value = body.slice(eq + 1);
      else if (i + 1 < argv.length) value = argv[++i];
      else throw new BerthError(`flag needs an argument: -${key}`, { field: where });
    } else {
      value = eq >= 0 ? !['false', '0'].includes(body.slice(eq + 1)) : true;
    }
    if (s.repeat) flags[name] = [...((flags[name] as string[] | undefined) ?? []), String(value)];
    else flags[name] = value;
  }
  positional.push(...argv.slice(i));
  return { flags, positional };
}

export function str(p: Parsed, name: string): string | undefined {
  const v = p.flags[name];
  return typeof v === 'string' ? v : undefined;
}

export function bool(p: Parsed, name: string): boolean {
  return p.flags[name] === true;
}

export function list(p: Parsed, name: string): string[] {
  const v = p.flags[name];
  return Array.isArray(v) ? v : [];
}

export function int(p: Parsed, name: string, dflt: number): number {
  const v = str(p, name);
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new BerthError(`invalid value "${v}" for flag --${name}`);
  return n;
}
