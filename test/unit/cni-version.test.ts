import t from 'tap';
import { compareVersions, convertResult, highestCommon, parseResult } from '../../lib/cni/version';
import type { Result } from '../../lib/cni/types';

const r: Result = {
  cniVersion: '1.1.0',
  interfaces: [{ name: 'eth0', mac: '02:00:00:00:00:01', sandbox: '/run/netns/a' }],
  ips: [{ address: '10.0.0.2/24', gateway: '10.0.0.1', interface: 0 }, { address: 'fd00::2/64', gateway: 'fd00::1', interface: 0 }],
  routes: [{ dst: '0.0.0.0/0', gw: '10.0.0.1', mtu: 1400, table: 100 }],
  dns: { nameservers: ['10.0.0.53'] },
};

t.test('1.1.0 keeps everything, 1.0.0 drops the new route fields', async (t) => {
  t.same(convertResult(r, '1.1.0'), r);
  const v100 = convertResult(r, '1.0.0') as Result;
  t.equal(v100.cniVersion, '1.0.0');
  t.same(v100.routes, [{ dst: '0.0.0.0/0', gw: '10.0.0.1' }]);
  t.same(v100.ips, r.ips);
});

t.test('0.3.0, 0.3.1 and 0.4.0 add the family as "version" in each ip', async (t) => {
  for (const v of ['0.3.0', '0.3.1', '0.4.0']) {
    const out = convertResult(r, v) as { cniVersion: string; ips: { version: string; address: string }[]; interfaces: unknown[] };
    t.equal(out.cniVersion, v);
    t.same(out.ips.map((i) => [i.version, i.address]), [['4', '10.0.0.2/24'], ['6', 'fd00::2/64']]);
    t.same(out.interfaces, r.interfaces);
  }
});

t.test('0.2.0 has one ip4 and one ip6 with their routes', async (t) => {
  t.same(convertResult(r, '0.2.0'), {
    cniVersion: '0.2.0',
    ip4: { ip: '10.0.0.2/24', gateway: '10.0.0.1', routes: [{ dst: '0.0.0.0/0', gw: '10.0.0.1' }] },
    ip6: { ip: 'fd00::2/64', gateway: 'fd00::1' },
    dns: { nameservers: ['10.0.0.53'] },
  });
  t.throws(() => convertResult(r, '7.0.0'), { code: 1 });
});

t.test('parseResult reads every version back into the 1.1.0 shape', async (t) => {
  for (const v of ['0.3.0', '0.3.1', '0.4.0', '1.1.0']) {
    t.same(parseResult(convertResult(r, v)), v === '1.1.0' ? r : { ...r, routes: [{ dst: '0.0.0.0/0', gw: '10.0.0.1' }] }, v);
  }
  const legacy = parseResult(convertResult(r, '0.2.0'));
  t.same(legacy.ips, [{ address: '10.0.0.2/24', gateway: '10.0.0.1' }, { address: 'fd00::2/64', gateway: 'fd00::1' }]);
  t.same(parseResult({ cniVersion: '1.0.0' }), { cniVersion: '1.1.0' });
});

t.test('parseResult rejects malformed results with code 6 naming the field', async (t) => {
  t.throws(() => parseResult('x'), { code: 6 });
  t.throws(() => parseResult({ ips: [{ gateway: '1.2.3.4' }] }), { code: 6, message: /ips\[0\]\.address/ });
  t.throws(() => parseResult({ routes: {} }), { code: 6, message: /routes/ });
  t.throws(() => parseResult({ interfaces: [{}] }), { code: 6, message: /interfaces\[0\]\.name/ });
});

t.test('versions compare numerically and negotiate to the highest common', async (t) => {
  t.ok(compareVersions('0.10.0', '0.4.0') > 0);
  t.equal(compareVersions('1.0.0', '1.0.0'), 0);
  t.ok(compareVersions('', '0.2.0') < 0, 'empty means 0.1.0');
  t.equal(highestCommon(['0.4.0', '1.0.0', '2.0.0']), '1.0.0');
  t.equal(highestCommon(['0.1.0']), undefined);
});
