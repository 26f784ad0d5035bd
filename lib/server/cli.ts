// `berth serve [--idle-timeout S] [--foreground]`: the server for --root (lib/server/server.ts). Started in
// the background by the first cold call that finds none (lib/server/autostart.ts), or by systemd in the
// foreground (logs to stderr).
import fs = require('node:fs');
import { BerthError } from '../util/errors';
import * as io from '../util/io';
import { bool, str, type Command } from '../util/command-line';
import type { Globals } from '../runtime/cli/context';
import type { CliEntry } from './runner';

/** The command, given the CLI's entry point that the server runs each request through. */
export const serveCommand = (runCli: CliEntry): Command<Globals> => ({
  summary: 'answer berth and CNI plugin calls for --root from a warm process (exits when idle)',
  flags: {
    'idle-timeout': { value: true, arg: 'SECONDS', default: '300', help: 'exit after this long without a request' },
    foreground: { value: false, help: 'log to stderr (for systemd); without it, log to <root>/serve.log' },
    'existing-root': { value: false, help: 'exit quietly unless --root exists (how a cold call starts a server: its root may be gone by then)' },
  },
  run: async (p, g) => {
    const seconds = Number(str(p, 'idle-timeout'));
    if (!(seconds > 0)) throw new BerthError(`invalid --idle-timeout "${str(p, 'idle-timeout')}": want seconds > 0`, { field: '--idle-timeout' });
    if (process.getuid?.() !== 0) throw new BerthError('berth serve must run as root (it answers root\'s calls)');
    // CNI reads stdin on the threadpool: room for many slow writers before fs work queues behind them
    process.env.UV_THREADPOOL_SIZE ??= '16';
    const { serve, logPath, RootGone } = require('./server') as typeof import('./server');
    const foreground = bool(p, 'foreground');
    const log = (line: string): void => {
      const text = `${new Date().toISOString()} berth serve: ${line}\n`;
      if (foreground) io.err(text);
      else try { fs.appendFileSync(logPath(g.root), text); } catch { /* logging must not stop the server */ }
    };
    try {
      await serve({ root: g.root, idleTimeoutMs: seconds * 1000, log, runCli, existingRoot: bool(p, 'existing-root') });
    } catch (e) {
      if (e instanceof RootGone) return 0;
      throw e;
    }
    return 0;
  },
});
