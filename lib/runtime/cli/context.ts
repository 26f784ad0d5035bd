// What every command gets: global flags and the logger.
import type { Logger } from './log';

export interface Globals {
  root: string;
  log: Logger;
  debug: boolean;
}

export type Command = (argv: string[], g: Globals) => Promise<number>;
