// Where berth is installed: the directory holding bin/, dist/ and native/. Found from this file's place,
// which is dist/lib/util/ in tsc's output and dist/<plugins|cli>/ inside a bundle (scripts/bundle.js):
// either way, what comes before the last /dist/.
import path = require('node:path');

export function installRoot(): string {
  const i = __dirname.lastIndexOf(`${path.sep}dist${path.sep}`);
  return i >= 0 ? __dirname.slice(0, i) : path.join(__dirname, '..', '..');
}
