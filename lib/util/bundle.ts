// Running a one-file esbuild bundle of our own modules (made by scripts/bundle.js) instead of tsc's
// output: used by the CNI plugins and the CLI's lifecycle commands, where Node's start-up is most of a call.
// - Loading one file instead of dozens of modules saves most of the module system's work.
// - The bundle runs through a V8 code cache kept per `key` (a plugin verb, a CLI command) beside it:
//   without one, V8 compiles every function on its first call, and in a short-lived process nearly every
//   call is a first one. The first run for a key writes its cache, later runs start compiled.
// - A bundle counts only while it is newer than every file it was made from (listed beside it by the
//   bundler): after a plain `tsc -p .` the callers fall back to tsc's output, slower but never stale.
import fs = require('node:fs');
import path = require('node:path');

/** `file`'s mtime if it and every file listed in `inputsFile` exist and none is newer; else undefined. */
export function freshness(file: string, inputsFile: string): number | undefined {
  try {
    const mtime = fs.statSync(file).mtimeMs;
    const inputs = JSON.parse(fs.readFileSync(inputsFile, 'utf8')) as string[];
    for (const input of inputs) if (fs.statSync(path.resolve(path.dirname(file), input)).mtimeMs > mtime) return undefined;
    return mtime;
  } catch {
    return undefined;
  }
}

/** The inputs list the bundler writes beside `file` (x.js -> x.inputs.json). */
export function inputsOf(file: string): string {
  return `${file.slice(0, -'.js'.length)}.inputs.json`;
}

/**
 * Where the code cache for `key` lives. V8 checks a cache against the source's length, not its content, so
 * the name carries the bundle's mtime: a rebuilt bundle never meets an old cache (the bundler removes those).
 * `key` must be one of `keys`, else "other": it never becomes a path of its own.
 */
export function cachePath(file: string, mtime: number, key: string, keys: ReadonlySet<string>): string {
  return `${file.slice(0, -'.js'.length)}.${keys.has(key) ? key : 'other'}.${Math.floor(mtime)}.v8cache`;
}

/**
 * Runs a CommonJS bundle as require() would, through the code cache for `key` (written at exit when
 * missing or rejected), and returns its exports.
 */
export function requireBundle(file: string, mtime: number, key: string, keys: ReadonlySet<string>): unknown {
  const vm = require('node:vm') as typeof import('node:vm');
  const { createRequire } = require('node:module') as typeof import('node:module');
  const cacheFile = cachePath(file, mtime, key, keys);
  let cachedData: Buffer | undefined;
  try {
    cachedData = fs.readFileSync(cacheFile);
  } catch {
    // no cache yet for this key
  }
  const wrapped = `(function (exports, require, module, __filename, __dirname) {${fs.readFileSync(file, 'utf8')}\n})`;
  const script = new vm.Script(wrapped, { filename: file, cachedData });
  // rejected: another Node version or V8 flags (a --cpu-prof run, say); the next run uses the new one.
  // Missing: write it unless a run that started alongside (hundreds may) wrote it meanwhile.
  if (script.cachedDataRejected) process.once('exit', () => writeCache(cacheFile, script));
  else if (!cachedData) process.once('exit', () => { if (!fs.existsSync(cacheFile)) writeCache(cacheFile, script); });
  const module = { exports: {} };
  script.runInThisContext()(module.exports, createRequire(file), module, file, path.dirname(file));
  return module.exports;
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
    try {
      fs.rmSync(tmp, { force: true });
    } catch {
      // the directory is not ours to clean
    }
  }
}
