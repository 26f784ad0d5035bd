// Reading and writing cgroup control files one at a time (batch.ts does many in one call). Each write is one
// write(2), as the kernel parses per call.
import fs = require('node:fs');
import * as fsp from '../util/fs-async';
import path = require('node:path');
import { errnoCode } from '../util/errors';

export async function readText(dir: string, file: string): Promise<string> {
  return fsp.readFile(path.join(dir, file), 'utf8');
}

/** The file's content, or undefined when the file (or its cgroup) does not exist. */
export async function readOptional(dir: string, file: string): Promise<string | undefined> {
  try {
    return await readText(dir, file);
  } catch (e) {
    if (errnoCode(e) === 'ENOENT' || errnoCode(e) === 'ENODEV') return undefined;
    throw e;
  }
}

export async function exists(p: string): Promise<boolean> {
  try {
    await fsp.access(p);
    return true;
  } catch {
    return false;
  }
}

/** Writes a raw value (no error wrapping): for callers that handle the errno themselves. */
export async function writeRaw(dir: string, file: string, value: string): Promise<void> {
  // O_WRONLY without O_CREAT/O_TRUNC: some control files are write-only and none may be created
  const fd = await fsp.open(path.join(dir, file), fs.constants.O_WRONLY);
  try {
    await fsp.write(fd, value);
  } finally {
    await fsp.close(fd);
  }
}

/** "key value" lines (memory.stat, cpu.stat, ...) as numbers. */
export function parseFlatKeyed(text: string | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of (text ?? '').split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined && /^-?\d+$/.test(v)) out[k] = Number(v);
  }
  return out;
}

/** A single number file; "max" (v2) and absent files read as 0 unless given. */
export function parseNumber(text: string | undefined, maxValue = 0): number {
  const s = (text ?? '').trim();
  if (s === 'max') return maxValue;
  const n = Number(s);
  return Number.isFinite(n) ? n : 0;
}
