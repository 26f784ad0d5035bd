// How bin/berth-<plugin> starts: from the plugin's one-file bundle (dist/plugins/berth-<plugin>.js, made by
// `npm run build:plugins`) when it is newer than the files it was made from, else from tsc's output.
// - Loading one file instead of about forty modules saves most of the module system's work.
// - The bundle runs through a V8 code cache kept per verb beside it: without one, V8 compiles every
//   function on its first call, and in a short-lived plugin nearly every call is a first one. The first run
//   of a verb writes its cache (the functions that run compiled), later runs of that verb start compiled.
// - The fallback keeps a plain `tsc -p .` build correct, only slower, until the next bundle.
// - Modules on this path import Node's built-ins as `import fs = require('node:fs')`: tsc compiles
//   `import * as fs` into a copy of all of the module's properties (__importStar), ~0.2 ms per import.
import fs = require('node:fs');
import path = require('node:path');

/** Each plugin's module below dist/lib/cni; it exports `plugin` and `ABOUT` for runPlugin. */
export const PLUGINS: Readonly<Record<string, string>> = {
  'berth-bridge': 'plugins/bridge',
  'berth-veth': 'plugins/veth',
  'berth-vxlan': 'plugins/vxlan',
  'berth-bgp': 'plugins/bgp',
  'berth-portmap': 'plugins/portmap',
  'berth-ipam': 'ipam/plugin',
};

const DIST = path.join(__dirname, '..', '..', '..');
const VERBS = new Set(['ADD', 'DEL', 'CHECK', 'GC', 'STATUS', 'VERSION']);

export function bundlePath(name: string): string {
  return path.join(DIST, 'plugins', `${name}.js`);
}

/**
 * The bundle's mtime when it exists and is newer than every file it was made from (the compiled modules
 * and the netlink addon, listed by the bundler beside it), else undefined: then tsc ran since, and the
 * bundle may hold old code. About forty stats, a fraction of a millisecond.
 */
export function bundleFresh(name: string): number | undefined {
  return freshness(bundlePath(name), inputsPath(name));
}

/** The bundle's inputs, relative to its directory (written by scripts/bundle-plugins.js). */
export function inputsPath(name: string): string {
  return path.join(DIST, 'plugins', `${name}.inputs.json`);
}

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

/** Runs plugin `name` (a key of PLUGINS) on this process's environment and stdin. */
export function launch(name: string): void {
  const mod = PLUGINS[name];
  if (!mod) throw new Error(`unknown berth plugin ${name}`);
  const mtime = bundleFresh(name);
  if (mtime !== undefined) {
    runBundle(bundlePath(name), mtime);
    return;
  }
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { runPlugin } = require('../skel') as typeof import('../skel');
  const { plugin, ABOUT } = require(path.join('..', mod)) as { plugin: import('../skel').Plugin; ABOUT: string };
  /* eslint-enable @typescript-eslint/no-require-imports */
  runPlugin(plugin, ABOUT);
}

/**
 * Where a verb's code cache lives. V8 checks a cache against the source's length, not its content, so the
 * name carries the bundle's mtime: a rebuilt bundle never meets an old cache (the bundler removes those).
 */
export function cachePath(file: string, mtime: number, verb = process.env.CNI_COMMAND ?? ''): string {
  return `${file.slice(0, -'.js'.length)}.${VERBS.has(verb) ? verb : 'other'}.${Math.floor(mtime)}.v8cache`;
}

/** Runs a CommonJS bundle as require() would, with its verb's code cache (written at exit when missing). */
export function runBundle(file: string, mtime: number): void {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const vm = require('node:vm') as typeof import('node:vm');
  const { createRequire } = require('node:module') as typeof import('node:module');
  /* eslint-enable @typescript-eslint/no-require-imports */
  const cacheFile = cachePath(file, mtime);
  let cachedData: Buffer | undefined;
  try {
    cachedData = fs.readFileSync(cacheFile);
  } catch {
    // no cache yet for this verb
  }
  const wrapped = `(function (exports, require, module, __filename, __dirname) {${fs.readFileSync(file, 'utf8')}\n})`;
  const script = new vm.Script(wrapped, { filename: file, cachedData });
  // rejected: another Node version or V8 flags (a --cpu-prof run, say); the next run uses the new one.
  // Missing: write it unless a run that started alongside (hundreds may) wrote it meanwhile.
  if (script.cachedDataRejected) process.once('exit', () => writeCache(cacheFile, script));
  else if (!cachedData) process.once('exit', () => { if (!fs.existsSync(cacheFile)) writeCache(cacheFile, script); });
  const module = { exports: {} };
  script.runInThisContext()(module.exports, createRequire(file), module, file, path.dirname(file));
}

/**
 * Atomically (hundreds of plugins may start at once). Never throws: this runs at exit, after the plugin's
 * answer, and a read-only or foreign-owned install must simply run without a cache.
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
