// `state` and `list`: the queries clients run most, loading only lib/runtime/status.
import * as io from '../../util/io';
import { BerthError } from '../../util/errors';
import * as status from '../status';
import { bool, str } from '../../util/command-line';
import type { Handler } from './context';

function needId(positional: string[], cmd: string): string {
  if (!positional[0]) throw new BerthError(`"${cmd}" requires a container id`);
  return positional[0];
}

export const state: Handler = async (p, g) => {
  const s = await status.state(needId(p.positional, 'state'), { root: g.root });
  io.out(JSON.stringify(s, null, '  ') + '\n');
  return 0;
};

export const listCmd: Handler = async (p, g) => {
  const all = await status.list({ root: g.root });
  if (bool(p, 'quiet')) {
    io.out(all.map((s) => s.id + '\n').join(''));
    return 0;
  }
  const format = str(p, 'format')!;
  if (format === 'json') {
    io.out(JSON.stringify(all) + '\n');
    return 0;
  }
  if (format !== 'table') throw new BerthError(`invalid format option "${format}"`, { field: '--format' });
  const rows = [['ID', 'PID', 'STATUS', 'BUNDLE', 'CREATED', 'OWNER'], ...all.map((s) => [s.id, String(s.pid), s.status, s.bundle, s.created, s.owner || 'root'])];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  io.out(rows.map((r) => r.map((v, i) => v.padEnd(widths[i])).join('   ').trimEnd()).join('\n') + '\n');
  return 0;
};

