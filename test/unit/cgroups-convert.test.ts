import t from 'tap';
import { blkioWeightToIoWeight, hugePageSizeKb, sharesToWeight, swapToV2, v2Bytes } from '../../lib/cgroups/convert';

t.test('cpu shares map onto cpu.weight as the runtime-spec says', async (t) => {
  t.equal(sharesToWeight(2), 1);
  t.equal(sharesToWeight(262144), 10000);
  t.equal(sharesToWeight(1024), 39);
  t.equal(sharesToWeight(512), 20);
  t.equal(sharesToWeight(0), 0, 'unset stays unset');
});

t.test('blkio weight maps onto io.weight', async (t) => {
  t.equal(blkioWeightToIoWeight(10), 1);
  t.equal(blkioWeightToIoWeight(1000), 10000);
  t.equal(blkioWeightToIoWeight(500), 4950);
});

t.test('memory+swap becomes v2 swap alone; -1 is max', async (t) => {
  t.equal(swapToV2(300, 100), 200);
  t.equal(swapToV2(100, 100), 0, 'no swap at all');
  t.equal(swapToV2(-1, 100), 'max');
  t.equal(swapToV2(0, 100), undefined, '0 = unset');
  t.equal(swapToV2(undefined, 100), undefined);
  t.equal(swapToV2(500, -1), 500, 'no limit to subtract');
  t.equal(v2Bytes(-1), 'max');
  t.equal(v2Bytes(4096), '4096');
});

t.test('hugepage sizes parse to kB', async (t) => {
  t.equal(hugePageSizeKb('2MB'), 2048);
  t.equal(hugePageSizeKb('1GB'), 1048576);
  t.equal(hugePageSizeKb('64KB'), 64);
  t.equal(hugePageSizeKb('2mb'), undefined);
  t.equal(hugePageSizeKb('2M'), undefined);
});
