// Commands as data: each has its flag table, its positional arguments and a handler, so that the parser and
// --help read the same definitions. A group (`berth image`, `berth agent`) holds sub-commands; an entry can
// be lazy, its module loaded only when it is used. --help text is made by lib/util/usage.ts, loaded only
// when asked for.
import * as io from './io';
import { parseFlags, UsageError, type FlagSpec, type Parsed } from './flags';

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
  const { usage } = require('./usage') as typeof import('./usage');
  io.out(usage(name, resolve(entry)));
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
