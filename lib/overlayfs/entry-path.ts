// Names inside a layer tar are untrusted. They are split into components and checked here, before anything
// touches the disk: absolute names and ".." are refused rather than silently rewritten. Names are byte
// strings (latin1, one char per byte: see tar-header.ts), so no two byte sequences become the same name.
import { ImageError } from './errors';

/** A byte-string name for a message: quoted text when it is UTF-8, else with \xNN for the other bytes. */
export function quoteName(bytes: string): string {
  const buf = Buffer.from(bytes, 'latin1');
  const text = buf.toString('utf8');
  if (Buffer.from(text, 'utf8').equals(buf)) return JSON.stringify(text);
  return `"${bytes.replace(/[\\"]|[^\x20-\x7e]/g, (c) => (c === '\\' || c === '"' ? `\\${c}` : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`))}"`;
}

/** "./usr/bin/" -> ["usr", "bin"]; [] is the layer root. */
export function entryComponents(name: string, what = 'entry'): string[] {
  if (name.includes('\0')) throw new ImageError(`${what} ${quoteName(name)}: NUL in name`);
  if (name.startsWith('/')) throw new ImageError(`${what} ${quoteName(name)}: absolute path refused`);
  const parts = name.split('/').filter((c) => c !== '' && c !== '.');
  if (parts.includes('..')) throw new ImageError(`${what} ${quoteName(name)}: ".." component refused`);
  return parts;
}

export const WHITEOUT_PREFIX = '.wh.';
export const OPAQUE_MARKER = '.wh..wh..opq';

export type WhiteoutKind = { kind: 'none' } | { kind: 'opaque' } | { kind: 'file'; name: string } | { kind: 'meta' };

/** Classifies an entry's last component (the OCI image-spec whiteout convention). */
export function whiteoutOf(base: string): WhiteoutKind {
  if (!base.startsWith(WHITEOUT_PREFIX)) return { kind: 'none' };
  if (base === OPAQUE_MARKER) return { kind: 'opaque' };
  // other .wh..wh.* names are aufs bookkeeping (e.g. .wh..wh.plnk): meaningless for overlay
  if (base.startsWith(`${WHITEOUT_PREFIX}${WHITEOUT_PREFIX}`)) return { kind: 'meta' };
  const name = base.slice(WHITEOUT_PREFIX.length);
  return { kind: 'file', name };
}
