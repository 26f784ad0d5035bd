// config.json of a bundle: read, parsed and validated, and cached per version of the file.
import fs = require('node:fs');
import * as fsp from '../../util/fs-async';
import path = require('node:path');
import { BerthError, errnoCode } from '../../util/errors';
import type { Spec } from '../spec/types';
import { validation } from './modules';

/**
 * Parsed and validated configs by bundle, so a program starting many containers from one bundle parses
 * and validates its config.json once. The key is the file's identity and change times in nanoseconds: an
 * edited or replaced config.json gets a new key and is read again. Cached specs are shared: nothing below
 * mutates a spec (create copies it where it adds mounts).
 */
const bundleSpecs = new Map<string, { key: string; spec: Spec }>();

export async function bundleSpec(bundle: string): Promise<Spec> {
  const st = await fsp.stat(path.join(bundle, 'config.json'), { bigint: true }).catch(() => undefined);
  if (!st) return loadSpec(bundle); // reports the missing file or directory
  const key = `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
  const hit = bundleSpecs.get(bundle);
  if (hit?.key === key) return hit.spec;
  const spec = await loadSpec(bundle);
  validation().validateSpec(spec);
  bundleSpecs.set(bundle, { key, spec });
  return spec;
}

export async function loadSpec(bundle: string): Promise<Spec> {
  const file = path.join(bundle, 'config.json');
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') throw new BerthError(`bundle ${bundle}: no config.json (${fs.existsSync(bundle) ? 'missing file' : 'no such directory'})`, { field: '--bundle' });
    throw e;
  }
  return validation().parseSpec(text, file);
}
