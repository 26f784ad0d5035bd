// A small flag parser with runc's (urfave/cli's) conventions: `--flag value`, `--flag=value`, `-flag value`,
// booleans without a value. No dependency, no start-up cost. Each flag is defined once, in a FlagSpec that
// both the parser and --help (lib/util/usage.ts) read.
import { BerthError } from './errors';

export interface FlagDef {
  /** true: takes a value; false: boolean */
  value: boolean;
  /** may be given more than once; the values are collected in order */
  repeat?: boolean;
  /** a second name, usually one letter: `-b` for `--bundle` */
  alias?: string;
  /** the value when the flag is absent (value flags only): the parser fills it in */
  default?: string;
  /** what --help names the value, e.g. DIR (default: value) */
  arg?: string;
  /** one line for --help */
  help: string;
}

export type FlagSpec = Record<string, FlagDef>;

export interface Parsed {
  flags: Record<string, string | boolean | string[]>;
  positional: string[];
  /** `--help` or `-h` was given (and the spec does not define them): the caller prints usage */
  help?: boolean;
}

/** A command line that does not fit the command: the CLI prints it, and the usage where it helps. */
export class UsageError extends BerthError {
  constructor(message: string, where?: string) {
    super(message, { field: where });
    this.name = 'UsageError';
  }
}

const HELP = new Set(['help', 'h']);

/**
 * Parses flags until the first positional argument (or `--`), or through all of argv when `interspersed`;
 * the rest is positional, untouched. `--help`/`-h` stop parsing and set `help`.
 */
export function parseFlags(argv: string[], spec: FlagSpec, where: string, stopAtPositional = true): Parsed {
  const flags: Parsed['flags'] = {};
  const positional: string[] = [];
  const byName = new Map<string, string>();
  for (const [name, s] of Object.entries(spec)) {
    byName.set(name, name);
    if (s.alias) byName.set(s.alias, name);
  }
  let help = false;
  let i = 0;
  for (; i < argv.length && !help; i++) {
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
    if (!name && HELP.has(key)) {
      help = true;
      continue;
    }
    if (!name) throw new UsageError(`flag provided but not defined: -${key}`, where);
    const s = spec[name];
    let value: string | boolean;
    if (s.value) {
      if (eq >= 0) value = body.slice(eq + 1);
      else if (i + 1 < argv.length) value = argv[++i];
      else throw new UsageError(`flag needs an argument: -${key}`, where);
    } else {
      value = eq >= 0 ? !['false', '0'].includes(body.slice(eq + 1)) : true;
    }
    if (s.repeat) flags[name] = [...((flags[name] as string[] | undefined) ?? []), String(value)];
    else flags[name] = value;
  }
  if (!help) positional.push(...argv.slice(i));
  for (const [name, s] of Object.entries(spec)) {
    if (s.default !== undefined && !(name in flags)) flags[name] = s.repeat ? [s.default] : s.default;
  }
  return help ? { flags, positional, help } : { flags, positional };
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

/** A non-negative integer flag; `dflt` when absent (flags with a table default are never absent). */
export function int(p: Parsed, name: string, dflt = 0): number {
  const v = str(p, name);
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`invalid value "${v}" for flag --${name}`);
  return n;
}
