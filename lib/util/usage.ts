// --help text in runc's shape (NAME, USAGE, COMMANDS, OPTIONS), made from a command's own definition
// (lib/util/command-line.ts): a flag documented here is the flag the parser reads. Loaded only for --help.
import type { FlagDef, FlagSpec } from './flag-spec';

function flagName(name: string, f: FlagDef): string {
  const arg = f.value ? ` ${f.arg ?? 'value'}` : '';
  const dash = (n: string) => (n.length === 1 ? '-' : '--') + n;
  return [name, ...(f.alias ? [f.alias] : [])].map((n) => dash(n) + arg).join(', ');
}

function flagHelp(f: FlagDef): string {
  const notes = [f.default !== undefined ? `default: ${f.default}` : '', f.repeat ? 'repeatable' : ''].filter(Boolean);
  return notes.length ? `${f.help} (${notes.join(', ')})` : f.help;
}

function columns(rows: [string, string][]): string {
  const w = Math.max(...rows.map((r) => r[0].length));
  return rows.map(([a, b]) => `   ${a.padEnd(w)}  ${b}`.trimEnd()).join('\n') + '\n';
}

/** One line per flag, `--help, -h` last. */
export function optionLines(flags: FlagSpec): string {
  const rows: [string, string][] = Object.entries(flags).map(([n, f]) => [flagName(n, f), flagHelp(f)]);
  rows.push(['--help, -h', 'show help']);
  return columns(rows);
}

/**
 * The usage of a command or, with `subcommands` (name, summary), a group, called as `name` (e.g.
 * `berth image import`).
 */
export function usage(name: string, entry: { summary: string; args?: string; flags: FlagSpec }, subcommands?: [string, string][]): string {
  const out = [`NAME:\n   ${name} - ${entry.summary}\n`];
  if (subcommands) {
    out.push(`USAGE:\n   ${name}${Object.keys(entry.flags).length ? ' [options]' : ''} COMMAND [command options] [arguments...]\n`);
    out.push(`COMMANDS:\n${columns(subcommands)}`);
    out.push(`OPTIONS:\n${optionLines(entry.flags)}`);
    out.push(`Run '${name} COMMAND --help' for a command's options.\n`);
  } else {
    out.push(`USAGE:\n   ${name}${Object.keys(entry.flags).length ? ' [command options]' : ''}${entry.args ? ` ${entry.args}` : ''}\n`);
    out.push(`OPTIONS:\n${optionLines(entry.flags)}`);
  }
  return out.join('\n');
}
