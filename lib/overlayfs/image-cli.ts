// `berth image ...`: import, ls, inspect, rm, gc. Returns the exit code; errors are one line on stderr.
import { runEntry, str, usageText, UsageError, type Command, type FlagSpec, type Group } from '../util/command-line';
import { gcLayers } from './gc';
import { importImage } from './import';
import { findImage, listImages, removeImageRecord } from './images';
import { withStoreLock } from './lock';
import { DEFAULT_DATA_ROOT } from './paths';
import { terminalProgress } from './progress';
import type { ImageRecord } from './types';

export interface ImageCommandOptions {
  dataRoot: string;
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
}

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

function noPositional(positionals: string[]): void {
  if (positionals.length) throw new UsageError(`unexpected argument ${positionals[0]}`);
}

const out = (o: ImageCommandOptions) => o.stdout ?? process.stdout;
const errOut = (o: ImageCommandOptions) => o.stderr ?? process.stderr;

// flags may follow the positional arguments: `image import FILE --name NAME`
const COMMANDS: Record<string, Command<ImageCommandOptions>> = {
  import: {
    summary: 'import an OCI or docker image archive (a tar file or an OCI layout directory)', args: 'FILE|DIR', interspersed: true,
    flags: { name: { value: true, arg: 'NAME', help: 'the name to store it under (default: the archive\'s own reference)' } },
    async run(p, opts) {
      const file = onePositional(p.positional, 'FILE or DIR');
      const err = errOut(opts);
      const meter = terminalProgress(err);
      let record: ImageRecord;
      try {
        record = await importImage(opts.dataRoot, file, {
          name: str(p, 'name'),
          progress: meter?.update,
          warn: (m) => err.write(`warning: ${m}\n`),
        });
      } finally {
        meter?.end();
      }
      out(opts).write(`${record.name} ${record.id}\n`);
      return 0;
    },
  },
  ls: {
    summary: 'list the images', interspersed: true,
    flags: { format: { value: true, alias: 'f', arg: 'table|json', default: 'table', help: 'output format' } },
    async run(p, opts) {
      noPositional(p.positional);
      const format = str(p, 'format');
      if (format !== 'table' && format !== 'json') throw new UsageError(`--format must be table or json, not ${format}`);
      const images = await listImages(opts.dataRoot);
      out(opts).write(format === 'json' ? `${JSON.stringify(images, null, 2)}\n` : table(images));
      return 0;
    },
  },
  inspect: {
    summary: 'print an image\'s record as JSON', args: 'NAME', interspersed: true, flags: {},
    async run(p, opts) {
      out(opts).write(`${JSON.stringify(await findImage(opts.dataRoot, onePositional(p.positional, 'NAME')), null, 2)}\n`);
      return 0;
    },
  },
  rm: {
    summary: 'remove an image (its layers stay until gc)', args: 'NAME', interspersed: true, flags: {},
    async run(p, opts) {
      const name = onePositional(p.positional, 'NAME');
      // layers stay until `image gc`: a running container may still use them
      const removed = await withStoreLock(opts.dataRoot, 'exclusive', () => removeImageRecord(opts.dataRoot, name));
      out(opts).write(`${removed.name}\n`);
      return 0;
    },
  },
  gc: {
    summary: 'remove the layers no image or container uses', interspersed: true, flags: {},
    async run(p, opts) {
      noPositional(p.positional);
      for (const d of await gcLayers(opts.dataRoot)) out(opts).write(`${d}\n`);
      return 0;
    },
  },
};
COMMANDS.list = { ...COMMANDS.ls, summary: 'the same as ls' };

const DATA_ROOT: FlagSpec = {
  'data-root': { value: true, arg: 'DIR', default: DEFAULT_DATA_ROOT, help: 'the image store' },
};

/** `berth image [--data-root DIR] COMMAND`, as the berth command table runs it. */
export const imageGroup: Group<unknown, ImageCommandOptions> = {
  summary: 'manage the OverlayFS image store',
  flags: DATA_ROOT,
  commands: () => COMMANDS,
  enter: (p) => ({ dataRoot: str(p, 'data-root')! }),
};

/** The image commands on argv (after `image` and its flags); usage errors exit 2 with the usage. */
export async function imageCommand(argv: string[], opts: ImageCommandOptions): Promise<number> {
  const group: Group<ImageCommandOptions> = { ...imageGroup, flags: {}, enter: () => opts };
  try {
    return await runEntry('berth image', group, argv, opts);
  } catch (e) {
    const msg = (e as Error).message;
    const line = msg.startsWith('berth image') ? msg : `berth image: ${msg}`;
    if (e instanceof UsageError) {
      errOut(opts).write(`${line}\n${usageText('berth image', imageGroup)}`);
      return 2;
    }
    errOut(opts).write(`${line}\n`);
    return 1;
  }
}
