// `berth image ...`: import, ls, inspect, rm, gc. Returns the exit code; errors are one line on stderr.
import { parseArgs } from 'node:util';
import { gcLayers } from './gc';
import { importImage } from './import';
import { findImage, listImages, removeImageRecord } from './images';
import { withStoreLock } from './lock';
import { terminalProgress } from './progress';
import type { ImageRecord } from './types';

export interface ImageCommandOptions {
  dataRoot: string;
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
}

const USAGE = 'usage: berth image import FILE|DIR [--name NAME] | ls [--format table|json] | inspect NAME | rm NAME | gc';

class UsageError extends Error {}

function humanSize(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) { n /= 1000; i++; }
  return `${i === 0 ? n : n.toFixed(1)} ${units[i]}`;
}

function table(images: ImageRecord[]): string {
  const rows = [['NAME', 'ID', 'LAYERS', 'SIZE', 'CREATED']];
  for (const i of images) rows.push([i.name, i.id.slice(7, 19), String(i.layers.length), humanSize(i.size), i.created ?? '']);
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]))).join('   ').trimEnd()).join('\n') + '\n';
}

function onePositional(positionals: string[], what: string): string {
  if (positionals.length !== 1) throw new UsageError(`expected exactly one ${what}`);
  return positionals[0];
}

export async function imageCommand(argv: string[], opts: ImageCommandOptions): Promise<number> {
  const out = opts.stdout ?? process.stdout;
  const err = opts.stderr ?? process.stderr;
  const [sub, ...rest] = argv;
  try {
    switch (sub) {
      case 'import': {
        const { values, positionals } = parseArgs({ args: rest, options: { name: { type: 'string' } }, allowPositionals: true });
        const file = onePositional(positionals, 'FILE or DIR');
        const meter = terminalProgress(err);
        let record: ImageRecord;
        try {
          record = await importImage(opts.dataRoot, file, {
            name: values.name,
            progress: meter?.update,
            warn: (m) => err.write(`warning: ${m}\n`),
          });
        } finally {
          meter?.end();
        }
        out.write(`${record.name} ${record.id}\n`);
        return 0;
      }
      case 'ls':
      case 'list': {
        const { values, positionals } = parseArgs({ args: rest, options: { format: { type: 'string', short: 'f', default: 'table' } }, allowPositionals: true });
        if (positionals.length) throw new UsageError(`unexpected argument ${positionals[0]}`);
        if (values.format !== 'table' && values.format !== 'json') throw new UsageError(`--format must be table or json, not ${values.format}`);
        const images = await listImages(opts.dataRoot);
        out.write(values.format === 'json' ? `${JSON.stringify(images, null, 2)}\n` : table(images));
        return 0;
      }
      case 'inspect': {
        const { positionals } = parseArgs({ args: rest, allowPositionals: true });
        out.write(`${JSON.stringify(await findImage(opts.dataRoot, onePositional(positionals, 'NAME')), null, 2)}\n`);
        return 0;
      }
      case 'rm': {
        const { positionals } = parseArgs({ args: rest, allowPositionals: true });
        const name = onePositional(positionals, 'NAME');
        // layers stay until `image gc`: a running container may still use them
        const removed = await withStoreLock(opts.dataRoot, 'exclusive', () => removeImageRecord(opts.dataRoot, name));
        out.write(`${removed.name}\n`);
        return 0;
      }
      case 'gc': {
        const { positionals } = parseArgs({ args: rest, allowPositionals: true });
        if (positionals.length) throw new UsageError(`unexpected argument ${positionals[0]}`);
        for (const d of await gcLayers(opts.dataRoot)) out.write(`${d}\n`);
        return 0;
      }
      default:
        throw new UsageError(sub ? `unknown image command ${JSON.stringify(sub)}` : 'missing image command');
    }
  } catch (e) {
    if (e instanceof UsageError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      err.write(`berth image: ${(e as Error).message}\n${USAGE}\n`);
      return 2;
    }
    err.write(`berth image: ${(e as Error).message}\n`);
    return 1;
  }
}
