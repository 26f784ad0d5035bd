// Running a one-file esbuild bundle of our own modules (made by scripts/bundle.js) instead of tsc's
// output: used by the CNI plugins and the CLI (bin/berth), where Node's start-up is most of a call.
// - Loading one file instead of dozens of modules saves most of the module system's work.
// - The bundle runs through a V8 code cache kept per `key` (a plugin verb, a CLI command) beside it:
//   without one, V8 compiles every function on its first call, and in a short-lived process nearly every
//   call is a first one. The first run for a key writes its cache, later runs start compiled.
// - The bundle's header line (scripts/bundle.js) carries its content hash and the files it is stale behind
//   (tsc's build info, say): after a plain `tsc -p .` the callers fall back to tsc's output, slower but never
//   stale. Checking costs one stat per listed file, where a list of every input cost a stat per module.
// - Nothing here may break a call: an unreadable, stale or foreign bundle is "no bundle", an unreadable or
//   rejected cache is "no cache", an unwritable directory means running without one.
// - Not a startup snapshot (node --snapshot-blob, issue 13): on Node 20 its own start costs ~4 ms more than
//   node's built-in one, ~9 ms with this bundle compiled in, more than reading the bundle and its cache.
import fs = require('node:fs');
import path = require('node:path');

const HEADER = '//berth-bundle ';

export interface Bundle {
  file: string;
  /** content hash from the header: names the code caches */
  id: string;
  source: string;
}

/**
 * The code of a bundle as scripts/bundle.js writes it, after the header line: the function require() would
 * wrap it in. Written so, the text read is compiled as it is, where wrapping it at run time copied half a
 * megabyte into a new string on each call (~0.3 ms).
 */
export function wrapCommonJs(code: string): string {
  return `(function (exports, require, module, __filename, __dirname) {${code}\n})`;
}

/** Reads `file` whole (latin1: bundles are ASCII, so no UTF-8 decoding is needed). */
function readWhole(file: string): { text: string; mtimeMs: number } {
  const fd = fs.openSync(file, 'r');
  try {
    const { size, mtimeMs } = fs.fstatSync(fd);
    const buf = Buffer.allocUnsafe(size);
    let n = 0;
    while (n < size) {
      const got = fs.readSync(fd, buf, n, size - n, n);
      if (got === 0) break;
      n += got;
    }
    return { text: buf.toString('latin1', 0, n), mtimeMs };
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * The bundle at `file` while it is usable: its header names a content id and no file of its `after` list
 * (paths relative to the bundle) is newer than it; a listed file that does not exist (an installed package
 * ships no tsc build info) does not count. Else undefined.
 */
export function openBundle(file: string): Bundle | undefined {
  try {
    const { text, mtimeMs } = readWhole(file);
    if (!text.startsWith(HEADER)) return undefined;
    const header = JSON.parse(text.slice(HEADER.length, text.indexOf('\n'))) as { id?: unknown; after?: unknown };
    if (typeof header.id !== 'string' || !/^[0-9a-f]{8,64}$/.test(header.id) || !Array.isArray(header.after)) return undefined;
    const dir = path.dirname(file);
    for (const f of header.after) {
      const st = fs.statSync(path.resolve(dir, String(f)), { throwIfNoEntry: false });
      if (st && st.mtimeMs > mtimeMs) return undefined;
    }
    return { file, id: header.id, source: text };
  } catch {
    return undefined;
  }
}

/**
 * Where the code cache for `key` lives. V8 checks a cache against the source's length, not its content, so
 * the name carries the bundle's content id: a rebuilt bundle never meets an old cache.
 * `key` must be one of `keys`, else "other": it never becomes a path of its own.
 */
export function cachePath(file: string, id: string, key: string, keys: ReadonlySet<string>): string {
  return `${file.slice(0, -'.js'.length)}.${keys.has(key) ? key : 'other'}.${id}.v8cache`;
}

function readCache(file: string): Buffer | undefined {
  try {
    return fs.readFileSync(file);
  } catch {
    return undefined; // none yet for this key, or not readable: compile from source
  }
}

/** The cache a failing run wrote: it holds only what that run compiled (an error path, often short). */
export function partialCachePath(cacheFile: string): string {
  return `${cacheFile.slice(0, -'.v8cache'.length)}.partial.v8cache`;
}

/**
 * Runs a CommonJS bundle (its code wrapCommonJs'd) as require() would, through the code cache for `key`, and
 * returns its exports.
 * The cache is written at exit, when it holds every function the run compiled, not only the top level:
 * - missing: written, unless a run that started alongside (hundreds may) wrote it meanwhile;
 * - rejected (another Node version or V8 flags, a --cpu-prof run say, or a damaged file): rewritten;
 * - a run that fails (exit status not 0) writes the partial cache instead, used only while there is no
 *   other, so that the first call of a command being a failing one (`state` of a missing id, a bad flag)
 *   does not leave the command's successful path uncached; the next successful run writes the full one.
 */
export function requireBundle(bundle: Bundle, key: string, keys: ReadonlySet<string>): unknown {
  const vm = require('node:vm') as typeof import('node:vm');
  const { createRequire } = require('node:module') as typeof import('node:module');
  const { file } = bundle;
  const full = cachePath(file, bundle.id, key, keys);
  const partial = partialCachePath(full);
  let used = full;
  let cachedData = readCache(full);
  if (!cachedData) {
    used = partial;
    cachedData = readCache(partial);
  }
  const script = new vm.Script(bundle.source, { filename: file, cachedData }); // wrapCommonJs'd
  const accepted = cachedData !== undefined && !script.cachedDataRejected;
  if (!(accepted && used === full)) {
    process.once('exit', (code) => {
      if (code === 0) {
        if (script.cachedDataRejected || !fs.existsSync(full)) writeCache(full, script);
      } else if (!accepted) {
        // a rejected full cache would be read first by every run: it goes, the partial one stands in
        if (used === full) removeQuietly(full);
        if (script.cachedDataRejected || !fs.existsSync(partial)) writeCache(partial, script);
      }
    });
  }
  const module = { exports: {} };
  script.runInThisContext()(module.exports, createRequire(file), module, file, path.dirname(file));
  return module.exports;
}

function removeQuietly(file: string): void {
  try {
    fs.rmSync(file, { force: true });
  } catch {
    // not ours to remove (a read-only installation)
  }
}

/**
 * Atomically (hundreds of processes may start at once). Never throws: this runs at exit, after the
 * process's answer, and a read-only or foreign-owned install must simply run without a cache.
 */
function writeCache(cacheFile: string, script: import('node:vm').Script): void {
  const tmp = `${cacheFile}.${process.pid}.tmp`;
  try {
    fs.writeFileSync(tmp, script.createCachedData());
    fs.renameSync(tmp, cacheFile);
  } catch {
    removeQuietly(tmp);
  }
}
