// The tar header parser and the streaming tar parser: tar-stream (what the import used before) is the
// control on a well-formed archive cut at every kind of chunk boundary; malformed and hostile headers fail
// with one-line errors naming the offset.
import t from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tarStream from 'tar-stream';
import { quoteName } from '../../lib/overlayfs/entry-path';
import { openSource, readAll } from '../../lib/overlayfs/source';
import { MAX_EXTENDED_HEADER, parseHeader } from '../../lib/overlayfs/tar-header';
import { TarParser, type TarSink } from '../../lib/overlayfs/tar-parser';
import { buildTar, MTIME } from '../helpers/image-builder';
import { END_OF_ARCHIVE, paxRecords, tarHeader, tarMember } from '../helpers/raw-tar';

interface Seen { name: string; type: string; size: number; mode: number; uid: number; gid: number; mtime: number; linkname: string; data: string; xattrs: Record<string, string> }

function parse(tar: Buffer, chunk: number): Seen[] {
  const out: Seen[] = [];
  let current: Seen | undefined;
  const sink: TarSink = {
    entry(h) {
      current = {
        name: h.name, type: h.type, size: h.size, mode: h.mode, uid: h.uid, gid: h.gid, mtime: Math.floor(h.mtime), linkname: h.linkname, data: '',
        xattrs: Object.fromEntries(h.xattrs.map(([k, v]) => [k, v.toString('latin1')])),
      };
    },
    data(c) {
      (current as Seen).data += c.toString('latin1');
    },
    end() {
      out.push(current as Seen);
    },
  };
  const p = new TarParser(sink);
  for (let i = 0; i < tar.length; i += chunk) p.push(tar.subarray(i, i + chunk));
  p.finish();
  return out;
}

async function control(tar: Buffer): Promise<Seen[]> {
  const ex = tarStream.extract({ filenameEncoding: 'latin1' } as never);
  const out: Seen[] = [];
  const done = (async () => {
    for await (const entry of ex) {
      const h = entry.header;
      let data = '';
      for await (const c of entry) data += (c as Buffer).toString('latin1');
      const xattrs: Record<string, string> = {};
      for (const [k, v] of Object.entries(h.pax ?? {})) if (k.startsWith('SCHILY.xattr.')) xattrs[k.slice(13)] = Buffer.from(v, 'utf8').toString('latin1');
      out.push({
        name: h.name, type: h.type as string, size: h.size ?? 0, mode: h.mode ?? 0, uid: h.uid ?? 0, gid: h.gid ?? 0,
        mtime: Math.floor((h.mtime?.getTime() ?? 0) / 1000), linkname: h.linkname ?? '', data, xattrs,
      });
    }
  })();
  ex.end(tar);
  await done;
  return out;
}

t.test('the parser sees what tar-stream sees, at any chunk size', async (t) => {
  const long = `${'d'.repeat(120)}/${'f'.repeat(150)}`;
  const tar = await buildTar([
    { name: 'dir/', type: 'directory', mode: 0o750, uid: 1000, gid: 100 },
    { name: 'dir/one', content: 'first\n', mode: 0o4755 },
    { name: long, content: Buffer.alloc(1500, 'x') },
    { name: 'dir/link', type: 'symlink', linkname: `../${'l'.repeat(200)}` },
    { name: 'dir/hard', type: 'link', linkname: 'dir/one' },
    { name: 'dir/xattr', content: 'x', pax: { 'SCHILY.xattr.user.k': 'value' } },
    { name: 'dir/empty', content: '' },
    { name: 'dev/null', type: 'character-device', devmajor: 1, devminor: 3, mode: 0o666 },
    { name: 'dir/fifo', type: 'fifo', mtime: MTIME },
  ]);
  const want = await control(tar);
  t.equal(want.length, 9, 'tar-stream sees nine entries');
  for (const chunk of [1, 7, 511, 512, 513, 4096, tar.length]) t.same(parse(tar, chunk), want, `chunks of ${chunk} bytes`);
});

t.test('names, link targets and xattr values stay bytes', async (t) => {
  const tar = Buffer.concat([
    tarMember({ name: Buffer.from('etc/\xff\xfe', 'latin1') }, Buffer.from('a')),
    tarMember({ name: Buffer.from('etc/\xfe\xff', 'latin1') }, Buffer.from('b')),
    tarMember({ name: 'PaxHeaders/x', type: 'x' }, paxRecords([['path', Buffer.from('p\xe9x', 'latin1')], ['SCHILY.xattr.user.bin', Buffer.from([0, 0xff, 0x80])]])),
    tarMember({ name: 'ignored' }, Buffer.from('c')),
    tarMember({ name: 'l', type: '2', linkname: Buffer.from('\xff', 'latin1') }),
    END_OF_ARCHIVE,
  ]);
  const seen = parse(tar, 100);
  t.same(seen.map((e) => e.name), ['etc/\xff\xfe', 'etc/\xfe\xff', 'p\xe9x', 'l'], 'four distinct byte names');
  t.same(seen[2].xattrs, { 'user.bin': '\x00\xff\x80' }, 'a binary xattr value, byte for byte');
  t.equal(seen[3].linkname, '\xff');
  t.equal(quoteName('etc/\xff\xfe'), '"etc/\\xff\\xfe"', 'messages show the bytes that are not UTF-8');
  t.equal(quoteName(Buffer.from('café').toString('latin1')), '"café"', 'and UTF-8 names as text');
});

t.test('malformed and hostile streams fail with the offset, without reading the claimed bytes', async (t) => {
  const file = tarMember({ name: 'a' }, Buffer.from('data'));
  const bad = Buffer.from(file);
  bad[0] = 0x62; // the checksum no longer matches
  t.throws(() => parse(bad, 512), /tar header at offset 0: bad checksum/);
  t.throws(() => parse(Buffer.concat([file, Buffer.alloc(512), file]), 512), /a zero block followed by data at offset 1536/);
  t.throws(() => parse(file.subarray(0, 600), 512), /tar stream truncated at offset 600/);
  t.same(parse(Buffer.concat([file, Buffer.alloc(512)]), 512).length, 1, 'one zero block, then the end: fine');
  t.same(parse(file, 512).length, 1, 'no end-of-archive marker at all: fine (as tar-stream)');
  const huge = tarHeader({ name: 'PaxHeaders/x', type: 'x', size: MAX_EXTENDED_HEADER + 1 });
  t.throws(() => parse(huge, 512), new RegExp(`PAX extended header of ${MAX_EXTENDED_HEADER + 1} bytes exceeds the 1 MiB limit`));
  const longLink = tarHeader({ name: '././@LongLink', type: 'K', size: 8 * 1024 ** 3 - 1 });
  t.throws(() => parse(longLink, 512), /GNU long link of 8589934591 bytes exceeds/);
  const bin = Buffer.from(tarHeader({ name: 'b', size: 0 }));
  bin.fill(0, 124, 136);
  bin[124] = 0x80; // GNU base-256 size: 2^40
  bin[130] = 1; // 256^5
  bin.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of bin) sum += b;
  bin.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  t.equal(parseHeader(bin, 0).size, 2 ** 40, 'base-256 sizes are read');
  t.throws(() => parse(Buffer.concat([tarMember({ name: 'x', type: 'x' }, Buffer.from('9 path=a'))]), 512), /malformed PAX record/);
  const sparse = Buffer.from(tarHeader({ name: 's', type: 'S' }));
  t.throws(() => parse(sparse, 512), /unsupported entry type "S"/);
});

t.test('a layout directory follows its symlinks only inside itself', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-ovl-unit-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const outside = path.join(dir, 'outside');
  fs.writeFileSync(outside, 'host file');
  const root = path.join(dir, 'image');
  fs.mkdirSync(path.join(root, 'blobs/sha256'), { recursive: true });
  fs.writeFileSync(path.join(root, 'blobs/sha256/real'), 'inside');
  fs.symlinkSync('../blobs/sha256/real', path.join(root, 'blobs/inner'));
  fs.symlinkSync('blobs', path.join(root, 'dirlink'));
  fs.symlinkSync(outside, path.join(root, 'abs'));
  fs.symlinkSync('../outside', path.join(root, 'up'));
  fs.symlinkSync('loop', path.join(root, 'loop'));
  const src = await openSource(root);
  t.equal((await readAll(src, 'blobs/inner')).toString(), 'inside', 'a relative link inside the image');
  t.equal((await readAll(src, 'dirlink/sha256/real')).toString(), 'inside', 'a directory link inside the image');
  await t.rejects(readAll(src, 'abs'), /refusing symlink "abs" -> ".*outside": it points outside the image/);
  await t.rejects(readAll(src, 'up'), /refusing symlink "up" -> "\.\.\/outside": it points outside the image/);
  await t.rejects(readAll(src, 'loop'), /too many symlinks resolving "loop"/);
});
