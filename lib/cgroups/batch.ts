// A list of cgroup file operations run in order by the native batch executor (native/src/fsbatch.c) on
// libuv's threadpool: one call and one completion for the main thread instead of a promise per syscall,
// each costing it far more than the kernel work does. Failures become the errors the fs-promises
// code threw: a Node-style fs error, or for a write that carries a config field, a ConfigError naming it.
import path = require('node:path');
import util = require('node:util');
import { native, type FsBatchResult } from '../sys/native';
import { ConfigError } from '../util/errors';

const OP = { mkdir: 1, rmdir: 2, write: 3, read: 4, fill: 5 } as const;
/** the op's error is reported in its result but does not stop the batch */
const NOFAIL = 0x100;

type OpName = keyof typeof OP;

interface Meta {
  op: OpName;
  path: string;
  value?: string;
  field?: string;
}

export type Outcome = FsBatchResult;

/** The errno name of a negative result ('ENOENT'), or undefined for a success. */
export function errnoName(result: number | string | undefined): string | undefined {
  return typeof result === 'number' && result < 0 ? util.getSystemErrorName(result) : undefined;
}

// the system call whose failure a Node fs error would name
const SYSCALL: Record<OpName, string> = { mkdir: 'mkdir', rmdir: 'rmdir', write: 'write', read: 'open', fill: 'write' };

/** An error shaped like node:fs's: "ENOENT: no such file or directory, mkdir '/x'" with code, errno, syscall, path. */
function fsError(errno: number, syscall: string, file: string): NodeJS.ErrnoException {
  const [code, desc] = util.getSystemErrorMap().get(-errno) ?? ['EUNKNOWN', 'unknown error'];
  return Object.assign(new Error(`${code}: ${desc}, ${syscall} '${file}'`), { code, errno: -errno, syscall, path: file });
}

export class Batch {
  private readonly ops: (number | string | null)[] = [];
  private readonly meta: Meta[] = [];

  get size(): number {
    return this.meta.length;
  }

  private add(op: OpName, nofail: boolean, file: string, arg: string | null, m: Partial<Meta> = {}): number {
    this.ops.push(OP[op] | (nofail ? NOFAIL : 0), file, arg);
    return this.meta.push({ op, path: file, ...m }) - 1;
  }

  /** mkdir (0755); its result is 0 when it made the directory, -EEXIST when it was there (never a stop). */
  mkdir(dir: string): number {
    return this.add('mkdir', false, dir, null);
  }

  rmdir(dir: string, opts: { nofail?: boolean } = {}): number {
    return this.add('rmdir', opts.nofail ?? false, dir, null);
  }

  /** One write(2) of the value; with a field, a refusal is that field's ConfigError. */
  write(dir: string, file: string, value: string, opts: { field?: string; nofail?: boolean } = {}): number {
    return this.add('write', opts.nofail ?? false, path.join(dir, file), value, { value, field: opts.field });
  }

  read(dir: string, file: string, opts: { nofail?: boolean } = {}): number {
    return this.add('read', opts.nofail ?? false, path.join(dir, file), null);
  }

  /** cpuset: copies the parent directory's file into dir's when dir's is blank. */
  fill(dir: string, file: string): number {
    return this.add('fill', false, path.join(dir, file), path.join(path.dirname(dir), file));
  }

  /** The op's kind and path, for callers that act on particular results (e.g. which mkdirs made a dir). */
  op(index: number): Readonly<Meta> {
    return this.meta[index];
  }

  run(): Promise<Outcome> {
    return native().fsBatch(this.ops);
  }

  /** Runs the batch; throws what the op that stopped it would have thrown as a single fs call. */
  async runOrThrow(): Promise<Outcome> {
    const out = await this.run();
    if (out.failed >= 0) throw this.error(out.failed, out.errno);
    return out;
  }

  /** The error op `index` failing with `errno` means to a caller. */
  error(index: number, errno: number): Error {
    const m = this.meta[index];
    if (m.op === 'write' && m.field !== undefined) {
      const code = util.getSystemErrorName(-errno);
      const why = code === 'ENOENT' ? 'not supported by this kernel or cgroup' : code;
      return new ConfigError(m.field, `writing "${(m.value ?? '').trim()}" to ${m.path}: ${why}`);
    }
    return fsError(errno, SYSCALL[m.op], m.path);
  }
}

/** A read's text, or undefined when it failed (a missing file or cgroup reads as absent). */
export function textOf(out: Outcome, index: number): string | undefined {
  const r = out.results[index];
  return typeof r === 'string' ? r : undefined;
}
