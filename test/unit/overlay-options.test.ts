// Pure pieces of lib/overlayfs: mount option strings, entry name checks, whiteout names, platform choice.
import t from 'tap';
import { overlayMountOptions } from '../../lib/overlayfs';
import { entryComponents, whiteoutOf } from '../../lib/overlayfs/entry-path';
import { machineArch, pickManifest } from '../../lib/overlayfs/manifest';

t.test('overlayMountOptions lists lowerdirs top first and escapes separators', async (t) => {
  t.equal(overlayMountOptions(['/l/b', '/l/a'], '/c/upper', '/c/work'), 'lowerdir=/l/b:/l/a,upperdir=/c/upper,workdir=/c/work');
  t.equal(overlayMountOptions(['/a', '/b']), 'lowerdir=/a:/b', 'read-only overlay without upper');
  t.equal(overlayMountOptions(['/x:y', '/p,q', '/back\\slash']), 'lowerdir=/x\\:y:/p\\,q:/back\\\\slash');
  t.throws(() => overlayMountOptions([]), /at least one lowerdir/);
  t.throws(() => overlayMountOptions(['/a'], '/u'), /upperdir and workdir must be given together/);
  t.throws(() => overlayMountOptions(['/a', '']), /empty directory path/);
});

t.test('entry names: ./ and trailing slashes are fine, absolute and .. are refused', async (t) => {
  t.same(entryComponents('./usr/bin/'), ['usr', 'bin']);
  t.same(entryComponents('usr//./lib'), ['usr', 'lib']);
  t.same(entryComponents('./'), [], 'the layer root');
  t.throws(() => entryComponents('/etc/passwd'), /"\/etc\/passwd": absolute path refused/);
  t.throws(() => entryComponents('a/../../b'), /".." component refused/);
  t.throws(() => entryComponents('..'), /".." component refused/);
  t.same(entryComponents('a..b/..c'), ['a..b', '..c'], 'dots inside a name are not ".."');
});

t.test('whiteout names follow the OCI convention', async (t) => {
  t.same(whiteoutOf('file'), { kind: 'none' });
  t.same(whiteoutOf('.wh.file'), { kind: 'file', name: 'file' });
  t.same(whiteoutOf('.wh..wh..opq'), { kind: 'opaque' });
  t.same(whiteoutOf('.wh..wh.plnk'), { kind: 'meta' });
  t.same(whiteoutOf('.whfile'), { kind: 'none' });
});

t.test('pickManifest chooses linux on this machine\'s architecture', async (t) => {
  const d = (arch?: string, os = 'linux') => ({ digest: `sha256:${(arch ?? 'none').padEnd(64, '0').slice(0, 64)}`, ...(arch ? { platform: { os, architecture: arch } } : {}) });
  t.equal(machineArch('x64'), 'amd64');
  t.equal(machineArch('arm64'), 'arm64');
  t.equal(pickManifest([d('arm64'), d('amd64'), d('amd64', 'windows')], 'idx', 'amd64').platform?.architecture, 'amd64');
  t.equal(pickManifest([d('amd64', 'windows'), d('amd64')], 'idx', 'amd64').platform?.os, 'linux');
  t.throws(() => pickManifest([d('arm64'), d('s390x')], 'idx', 'amd64'), /idx: no manifest for linux\/amd64 \(the index has linux\/arm64, linux\/s390x\)/);
  const only = d();
  t.equal(pickManifest([only], 'idx', 'amd64'), only, 'a single entry without platform is taken');
  t.throws(() => pickManifest([d(), d()], 'idx'), /2 manifests without platforms/);
  t.throws(() => pickManifest([], 'idx'), /lists no manifests/);
});
