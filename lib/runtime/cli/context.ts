// What every command gets: its parsed flags, the global flags and the logger.
import type { Parsed } from '../../util/command-line';
import type { Logger } from './log';

export interface Globals {
  root: string;
  log: Logger;
  debug: boolean;
}

export type Handler = (p: Parsed, g: Globals) => Promise<number>;
