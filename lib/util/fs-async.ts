// Promise forms of the fs calls the CLI's commands make, over fs's callback API. node:fs/promises costs
// 1-2 ms to load (it brings fs watchers and readline along), more than a `berth run` spends on its files;
// util.promisify of the callback functions loads nothing. Same calls, same errors.
import fs = require('node:fs');
import util = require('node:util');

export const access = util.promisify(fs.access);
export const chmod = util.promisify(fs.chmod);
export const chown = util.promisify(fs.chown);
export const mkdir = util.promisify(fs.mkdir);
export const readdir = util.promisify(fs.readdir);
export const readFile = util.promisify(fs.readFile);
export const rename = util.promisify(fs.rename);
export const rm = util.promisify(fs.rm);
export const rmdir = util.promisify(fs.rmdir);
export const stat = util.promisify(fs.stat);
export const writeFile = util.promisify(fs.writeFile);
export const open = util.promisify(fs.open);
export const close = util.promisify(fs.close);
export const write = util.promisify(fs.write);
