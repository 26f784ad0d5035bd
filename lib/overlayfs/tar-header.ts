// One tar header block, and the extended headers (PAX 'x', GNU 'L'/'K') that change the next entry.
// Names and link targets are bytes: they are kept as "byte strings" (latin1: one char per byte), so
// `etc/\xff\xfe` and `etc/\xfe\xff` stay two names; fs calls get Buffer.from(name, 'latin1').
import { ImageError } from './errors';

export const BLOCK = 512;

/**
 * The most an extended header (PAX record block, GNU long name or long link) may hold. It is read into
 * memory whole, so it must be bounded: honest ones carry two paths (PATH_MAX 4 KiB each) and xattrs
 * (XATTR_SIZE_MAX 64 KiB per value, XATTR_LIST_MAX 64 KiB of names), far below 1 MiB. tar-stream's cap
 * is 4 MiB; ours is smaller because three of them (x, L, K) may be pending for one entry.
 */
export const MAX_EXTENDED_HEADER = 1 << 20;

export type TarType =
  | 'file' | 'link' | 'symlink' | 'character-device' | 'block-device' | 'directory' | 'fifo' | 'contiguous-file'
  | 'pax' | 'pax-global' | 'gnu-long-name' | 'gnu-long-link';

const TYPES: Record<string, TarType> = {
  '0': 'file', '\0': 'file', '1': 'link', '2': 'symlink', '3': 'character-device', '4': 'block-device',
  '5': 'directory', '6': 'fifo', '7': 'contiguous-file', x: 'pax', g: 'pax-global', L: 'gnu-long-name', K: 'gnu-long-link',
};

export interface RawHeader {
  type: TarType;
  /** byte string */
  name: string;
  /** byte string */
  linkname: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** seconds since the epoch; PAX may give a fraction */
  mtime: number;
  devmajor: number;
  devminor: number;
}

/** An entry after its extended headers were applied; xattrs are the SCHILY.xattr.* records, values as bytes. */
export interface TarEntryHeader extends RawHeader {
  xattrs: [name: string, value: Buffer][];
}

/** Byte string of a NUL-terminated field. */
function field(block: Buffer, start: number, len: number): string {
  const end = block.indexOf(0, start);
  return block.toString('latin1', start, end < 0 || end > start + len ? start + len : end);
}

/** Octal text, or GNU base-256 when the high bit of the first byte is set. Parsed in place: it runs 8 times per entry. */
function numeric(block: Buffer, start: number, len: number, what: string, at: number): number {
  if (block[start] & 0x80) {
    if (block[start] === 0xff) throw new ImageError(`tar header at offset ${at}: negative ${what}`);
    let n = block[start] & 0x7f;
    for (let i = start + 1; i < start + len; i++) n = n * 256 + block[i];
    if (!Number.isSafeInteger(n)) throw new ImageError(`tar header at offset ${at}: ${what} too large`);
    return n;
  }
  let i = start;
  const end = start + len;
  while (i < end && block[i] === 0x20) i++; // leading spaces
  let n = 0;
  let digits = 0;
  for (; i < end; i++, digits++) {
    const c = block[i];
    if (c < 0x30 || c > 0x37) break;
    n = n * 8 + (c - 0x30);
  }
  // then only terminators: NUL or space
  for (; i < end; i++) {
    if (block[i] === 0) break;
    if (block[i] !== 0x20) throw new ImageError(`tar header at offset ${at}: ${what} is not an octal number`);
  }
  return digits === 0 ? 0 : n;
}

function checksumOk(block: Buffer): boolean {
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const b = i >= 148 && i < 156 ? 0x20 : block[i];
    unsigned += b;
    signed += b > 127 ? b - 256 : b;
  }
  const stored = numeric(block, 148, 8, 'checksum', 0);
  return stored === unsigned || stored === signed;
}

export function isZeroBlock(block: Buffer): boolean {
  for (let i = 0; i < BLOCK; i++) if (block[i] !== 0) return false;
  return true;
}

/** Parses one 512-byte header block found at byte offset `at` of the tar stream. */
export function parseHeader(block: Buffer, at: number): RawHeader {
  if (!checksumOk(block)) throw new ImageError(`tar header at offset ${at}: bad checksum (not a tar stream, or corrupt)`);
  const flag = String.fromCharCode(block[156]);
  let type = TYPES[flag];
  if (!type) throw new ImageError(`tar header at offset ${at}: unsupported entry type ${JSON.stringify(flag)}`);
  let name = field(block, 0, 100);
  // POSIX ustar splits long names into prefix/name; the GNU magic uses those bytes for other fields
  if (block.toString('latin1', 257, 263) === 'ustar\0') {
    const prefix = field(block, 345, 155);
    if (prefix) name = `${prefix}/${name}`;
  }
  // old tars mark directories only by the trailing slash
  if (type === 'file' && flag === '\0' && name.endsWith('/')) type = 'directory';
  return {
    type,
    name,
    linkname: field(block, 157, 100),
    mode: numeric(block, 100, 8, 'mode', at),
    uid: numeric(block, 108, 8, 'uid', at),
    gid: numeric(block, 116, 8, 'gid', at),
    size: numeric(block, 124, 12, 'size', at),
    mtime: numeric(block, 136, 12, 'mtime', at),
    devmajor: numeric(block, 329, 8, 'devmajor', at),
    devminor: numeric(block, 337, 8, 'devminor', at),
  };
}

/** Extended headers are read whole: refuse a size that would make that an allocation of gigabytes. */
const EXTENDED_NAMES: Partial<Record<TarType, string>> = {
  pax: 'PAX extended header', 'pax-global': 'PAX global header', 'gnu-long-name': 'GNU long name', 'gnu-long-link': 'GNU long link',
};

export function isExtended(header: RawHeader): boolean {
  return EXTENDED_NAMES[header.type] !== undefined;
}

export function checkExtendedSize(header: RawHeader, at: number): void {
  if (header.size > MAX_EXTENDED_HEADER) {
    throw new ImageError(`tar header at offset ${at}: ${EXTENDED_NAMES[header.type]} of ${header.size} bytes exceeds the ${MAX_EXTENDED_HEADER >> 20} MiB limit`);
  }
}

/** PAX records "<len> <key>=<value>\n"; keys are text, values stay bytes. */
export function parsePax(data: Buffer, at: number): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  let pos = 0;
  while (pos < data.length && data[pos] !== 0) {
    const space = data.indexOf(0x20, pos);
    const len = space < 0 ? NaN : Number(data.toString('latin1', pos, space));
    if (!Number.isSafeInteger(len) || len <= space - pos + 1 || pos + len > data.length || data[pos + len - 1] !== 0x0a) {
      throw new ImageError(`tar header at offset ${at}: malformed PAX record`);
    }
    const eq = data.indexOf(0x3d, space + 1);
    if (eq < 0 || eq >= pos + len) throw new ImageError(`tar header at offset ${at}: malformed PAX record`);
    out.set(data.toString('utf8', space + 1, eq), data.subarray(eq + 1, pos + len - 1));
    pos += len;
  }
  return out;
}

/** Pending extended headers, folded into the next real entry. */
export class ExtendedHeaders {
  private pax: Map<string, Buffer> | undefined;
  private longName: string | undefined;
  private longLink: string | undefined;

  /** Keeps an extended header's data for the next real entry. */
  take(header: RawHeader, data: Buffer, at: number): void {
    if (header.type === 'pax') this.pax = parsePax(data, at);
    else if (header.type === 'gnu-long-name') this.longName = field(data, 0, data.length);
    else if (header.type === 'gnu-long-link') this.longLink = field(data, 0, data.length);
    // 'g' (global) records are ignored, as containerd and Go's archive/tar do
  }

  apply(header: RawHeader, at: number): TarEntryHeader {
    const pax = this.pax;
    const out = header as TarEntryHeader;
    out.xattrs = [];
    if (this.longName !== undefined) out.name = this.longName;
    if (this.longLink !== undefined) out.linkname = this.longLink;
    if (pax) {
      const num = (key: string, integer: boolean): number | undefined => {
        const v = pax.get(key);
        if (v === undefined) return undefined;
        const n = Number(v.toString('latin1'));
        if (!Number.isFinite(n) || n < 0 || (integer && !Number.isSafeInteger(n))) {
          throw new ImageError(`tar header at offset ${at}: PAX ${key} is not a number`);
        }
        return n;
      };
      const path = pax.get('path');
      const linkpath = pax.get('linkpath');
      if (path) out.name = path.toString('latin1');
      if (linkpath) out.linkname = linkpath.toString('latin1');
      out.size = num('size', true) ?? out.size;
      out.uid = num('uid', true) ?? out.uid;
      out.gid = num('gid', true) ?? out.gid;
      out.mtime = num('mtime', false) ?? out.mtime;
      for (const [key, value] of pax) if (key.startsWith('SCHILY.xattr.')) out.xattrs.push([key.slice('SCHILY.xattr.'.length), value]);
    }
    this.pax = this.longName = this.longLink = undefined;
    return out;
  }
}
