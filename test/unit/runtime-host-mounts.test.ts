import t from 'tap';
import { rootfsSelfBind } from '../../lib/runtime/host-mounts';
import { parseMountinfo } from '../../lib/util/mountinfo';

const base = `22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/vda rw
30 22 0:40 / /tmp rw shared:5 - tmpfs tmpfs rw`;

t.test('the bootstrap\'s rootfs bind is told from mounts others made there', async (t) => {
  // a plain directory on the root filesystem, bound on itself
  let m = parseMountinfo(`${base}\n40 22 8:1 /srv/b\\040x/rootfs /srv/b\\040x/rootfs rw - ext4 /dev/vda rw`);
  t.equal(rootfsSelfBind(m, '/srv/b x/rootfs')?.id, 40, 'a self-bind (octal escapes undone)');
  // on a tmpfs: the bind's root is the path within that filesystem
  m = parseMountinfo(`${base}\n41 30 0:40 /c/rootfs /tmp/c/rootfs rw - tmpfs tmpfs rw`);
  t.equal(rootfsSelfBind(m, '/tmp/c/rootfs')?.id, 41);
  // an image's overlay mounted there (by the store, containerd or podman), and our bind on top of it
  const overlay = `${base}\n50 30 0:60 / /tmp/c/rootfs rw - overlay overlay rw,lowerdir=/l`;
  t.equal(rootfsSelfBind(parseMountinfo(overlay), '/tmp/c/rootfs'), undefined, 'the overlay alone is not ours');
  t.equal(rootfsSelfBind(parseMountinfo(`${overlay}\n51 50 0:60 / /tmp/c/rootfs rw - overlay overlay rw`), '/tmp/c/rootfs')?.id, 51);
  // someone's bind of another directory at that path
  t.equal(rootfsSelfBind(parseMountinfo(`${base}\n42 30 0:40 /elsewhere /tmp/c/rootfs rw - tmpfs tmpfs rw`), '/tmp/c/rootfs'), undefined);
  t.equal(rootfsSelfBind(parseMountinfo(base), '/tmp/c/rootfs'), undefined, 'nothing mounted there');
});
