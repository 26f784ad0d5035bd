// A command's flag table as data: read by the parser (command-line.ts) and by --help (usage.ts), which
// import it and not each other.
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
