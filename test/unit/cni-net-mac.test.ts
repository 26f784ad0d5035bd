import t from 'tap';
import { formatMac, parseMac } from '../../lib/cni/net/mac';

t.test('MAC addresses', async (t) => {
  t.equal(formatMac(parseMac('02:AB:cd:00:00:01')), '02:ab:cd:00:00:01');
  t.throws(() => parseMac('02:ab:cd:00:00'), /invalid MAC/);
});
