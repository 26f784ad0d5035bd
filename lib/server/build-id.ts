// This build's id (dist/build-id, written by the build): a front-end from another build goes cold.
import fs = require('node:fs');
import path = require('node:path');
import { installRoot } from '../util/install';

export function buildIdFile(): string {
  return path.join(installRoot(), 'dist', 'build-id');
}

/** The id, or undefined when the build wrote none (then every request goes cold). */
export function readBuildId(): string | undefined {
  try {
    return fs.readFileSync(buildIdFile(), 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}
