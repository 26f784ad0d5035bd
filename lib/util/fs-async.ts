// Promise forms of the fs calls the CLI's commands make, over fs's callback API. node:fs/promises costs
// 1-2 ms to load (it brings fs watchers and readline along), more than a `berth run` spends on its files;
// util.promisify of the callback functions loads nothing. Same calls, same errors.
// Each is promisified on its first call: a command uses a few of them, and promisify copies every
// property of the function it wraps (~0.2 ms for all of them at a cold start).
import fs = require('node:fs');
import util = require('node:util');

function lazy<T>(make: () => T): T {
  let made: T | undefined;
  return ((...args: unknown[]) => ((made ??= make()) as (...a: unknown[]) => unknown)(...args)) as T;
}

export const access = lazy(() => util.promisify(fs.access));
export const chmod = lazy(() => util.promisify(fs.chmod));
export const chown = lazy(() => util.promisify(fs.chown));
export const mkdir = lazy(() => util.promisify(fs.mkdir));
export const readdir = lazy(() => util.promisify(fs.readdir));
export const readFile = lazy(() => util.promisify(fs.readFile));
export const rename = lazy(() => util.promisify(fs.rename));
export const rm = lazy(() => util.promisify(fs.rm));
export const rmdir = lazy(() => util.promisify(fs.rmdir));
export const stat = lazy(() => util.promisify(fs.stat));
export const writeFile = lazy(() => util.promisify(fs.writeFile));
export const open = lazy(() => util.promisify(fs.open));
export const close = lazy(() => util.promisify(fs.close));
export const write = lazy(() => util.promisify(fs.write));
