// `berth`: runc's command line. Global flags, then a command from the table (./commands.ts), whose module
// loads only on use.
import * as io from '../../util/io';
import { BerthError } from '../../util/errors';
import { bool, parseFlags, str } from '../../util/flags';
import { dispatch, printUsage, type Group } from '../../util/command';
import { COMMANDS, GLOBAL_FLAGS } from './commands';
import type { Globals } from './context';
import { Logger, type LogFormat } from './log';

const VERSION = '0.1.0';

export const BERTH: Group<Globals> = {
  summary: `an OCI container runtime with runc's command line (version ${VERSION})`,
  flags: GLOBAL_FLAGS,
  commands: () => COMMANDS,
  enter: (_p, g) => g,
};

export async function main(argv: string[]): Promise<number> {
  let log = new Logger(undefined, 'text', false);
  try {
    const p = parseFlags(argv, GLOBAL_FLAGS, 'berth');
    const format = str(p, 'log-format') as LogFormat;
    if (format !== 'text' && format !== 'json') throw new BerthError(`invalid log format "${format}"`, { field: '--log-format' });
    log = new Logger(str(p, 'log'), format, bool(p, 'debug'));
    if (bool(p, 'version')) {
      io.out(`berth version ${VERSION}\nspec: 1.2.0\n`);
      return 0;
    }
    if (bool(p, 'systemd-cgroup')) throw new BerthError('systemd cgroup driver is not supported by berth: use cgroupfs paths', { field: '--systemd-cgroup' });
    const [name, ...rest] = p.positional;
    if (p.help || name === undefined) {
      printUsage('berth', BERTH);
      return p.help ? 0 : 1;
    }
    if (name !== 'help' && !Object.hasOwn(COMMANDS, name)) throw new BerthError(`No help topic for '${name}'`);
    const g: Globals = { root: str(p, 'root')!, log, debug: bool(p, 'debug') };
    log.debug(`${name} ${rest.join(' ')}`);
    return await dispatch('berth', BERTH, p, g);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    log.error(msg);
    io.err(`berth: ${msg}\n`);
    return 1;
  }
}
