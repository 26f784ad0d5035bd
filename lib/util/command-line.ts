// berth's command lines as data. A flag parser with runc's (urfave/cli's) conventions: `--flag value`,
// `--flag=value`, `-flag value`, booleans without a value; no dependency, no start-up cost. Commands: each
// has its flag table (each flag defined once: name, type, default, help), its positional arguments and a
// handler, so that the parser and --help read the same definitions. A group (`berth image`, `berth agent`)
// holds sub-commands; an entry can be lazy, its module loaded only when it is used. --help text is made by
// lib/util/usage.ts, loaded only when asked for. One module, not two: every CLI start pays for each module.
import { BerthError } from './errors';
import * as io from './io';
import type { FlagSpec } from './flag-spec';

export type { FlagDef, FlagSpec } from './flag-spec';

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

// Commands

export interface Command<C> {
  /** one line: what the command does */
  summary: string;
  /** the positional arguments, as --help shows them, e.g. `<container-id> [signal]` */
  args?: string;
  flags: FlagSpec;
  /** flags may follow positional arguments (otherwise the first positional ends the flags, as with runc) */
  interspersed?: boolean;
  run(p: Parsed, ctx: C): Promise<number>;
}

export interface Group<C, Sub = C> {
  summary: string;
  /** flags before the sub-command, e.g. `berth image --data-root DIR ls` */
  flags: FlagSpec;
  commands(): Record<string, Entry<Sub>>;
  /** what the sub-commands get, from this group's flags */
  enter(p: Parsed, ctx: C): Sub;
}

/** An entry whose definition lives in a module loaded only when the entry is used (or help lists it). */
export interface Lazy<C> {
  load(): Command<C> | Group<C, unknown>;
}

/** A group's sub-commands get a context of their own (methods are bivariant, so any Group fits). */
export type Entry<C> = Command<C> | Group<C, unknown> | Lazy<C>;

export function isGroup<C>(e: Command<C> | Group<C, unknown>): e is Group<C, unknown> {
  return typeof (e as Group<C>).commands === 'function';
}

/** The definition behind an entry, loading a lazy one. */
export function resolve<C>(e: Entry<C>): Command<C> | Group<C, unknown> {
  return 'load' in e ? e.load() : e;
}

/** Prints the usage of `entry`, called as `name` (e.g. `berth image import`), on stdout. */
export function printUsage<C>(name: string, entry: Entry<C>): void {
  io.out(usageText(name, entry));
}

/** The --help text of `entry`, called as `name`; a group's sub-commands are loaded to list them. */
export function usageText<C>(name: string, entry: Entry<C>): string {
  const { usage } = require('./usage') as typeof import('./usage');
  const e = resolve(entry);
  const subcommands = isGroup(e) ? Object.entries(e.commands()).map(([n, sub]): [string, string] => [n, resolve(sub).summary]) : undefined;
  return usage(name, e, subcommands);
}

/**
 * Runs `entry` (called as `name`, e.g. `berth agent`) on argv: parses its flags, answers --help/-h with its
 * usage on stdout (exit 0), descends into groups by the first positional argument.
 */
export async function runEntry<C>(name: string, entry: Entry<C>, argv: string[], ctx: C): Promise<number> {
  const e = resolve(entry);
  const interspersed = !isGroup(e) && e.interspersed === true;
  const p = parseFlags(argv, e.flags, name, !interspersed);
  if (p.help) {
    printUsage(name, e);
    return 0;
  }
  return isGroup(e) ? dispatch(name, e, p, ctx) : e.run(p, ctx);
}

/** The part of runEntry after a group's own flags: `help [COMMAND]`, or the sub-command named first. */
export async function dispatch<C>(name: string, group: Group<C, unknown>, p: Parsed, ctx: C): Promise<number> {
  const [sub, ...rest] = p.positional;
  const commands = group.commands();
  const known = (n: string | undefined) => (n !== undefined && Object.hasOwn(commands, n) ? commands[n] : undefined);
  const what = `${name.split(' ').pop()} command`;
  if (sub === 'help') {
    if (rest[0] === undefined) printUsage(name, group);
    else if (known(rest[0])) printUsage(`${name} ${rest[0]}`, known(rest[0])!);
    else throw new UsageError(`no help topic for "${rest[0]}"`, name);
    return 0;
  }
  const want = `want ${Object.keys(commands).join(', ')}`;
  if (sub === undefined) throw new UsageError(`missing ${what} (${want}; --help for usage)`, name);
  const next = known(sub);
  if (!next) throw new UsageError(`unknown ${what} "${sub}" (${want})`, name);
  return runEntry(`${name} ${sub}`, next, rest, group.enter(p, ctx));
}
