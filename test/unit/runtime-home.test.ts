import t from 'tap';
import { passwdAtCreate, passwdAtExec, passwdHome, withHome } from '../../lib/runtime/home';

const PASSWD = 'root:x:0:0:root:/root:/bin/sh\n\n  app:x:1000:1000::/home/app:/bin/sh  \r\nnohome:x:1001:1001\ndup:x:1000:1000::/second:/bin/sh\n';

t.test('passwdHome reads the first entry of the uid, as runc\'s parser does', async (t) => {
  t.equal(passwdHome(PASSWD, 0), '/root');
  t.equal(passwdHome(PASSWD, 1000), '/home/app', 'first match wins; spaces and CR trimmed');
  t.equal(passwdHome(PASSWD, 1001), '', 'an entry without a home field gives an empty home');
  t.equal(passwdHome(PASSWD, 4242), undefined);
  t.equal(passwdHome(undefined, 0), undefined);
  t.equal(passwdHome('bad:x:notanumber:0::/bad:/bin/sh\n', 0), '/bad', 'a uid field that is not a number counts as 0 (Go\'s Atoi, error ignored)');
});

t.test('withHome keeps a non-empty HOME and fills a missing or empty one', async (t) => {
  const passwd = () => PASSWD;
  t.same(withHome(['PATH=/bin'], 1000, passwd), ['PATH=/bin', 'HOME=/home/app']);
  t.same(withHome(['PATH=/bin'], 4242, passwd), ['PATH=/bin', 'HOME=/']);
  t.same(withHome(['HOME=', 'PATH=/bin'], 0, passwd), ['HOME=/root', 'PATH=/bin'], 'empty: replaced in place');
  let read = false;
  t.same(withHome(['HOME=/given'], 0, () => { read = true; return PASSWD; }), ['HOME=/given']);
  t.notOk(read, 'passwd is not read when HOME is given');
  t.same(withHome(['HOME=/a', 'HOME='], 0, passwd), ['HOME=/a', 'HOME=/root'], 'the last HOME= counts');
});

t.test('passwdAtCreate: the last mount covering /etc/passwd, else the rootfs', async (t) => {
  t.same(passwdAtCreate('/r', [{ destination: '/proc', type: 'proc' }], '/b'), { root: '/r', path: '/etc/passwd' });
  t.same(passwdAtCreate('/r', [{ destination: '/etc/passwd', type: 'bind', source: 'pw', options: ['rbind'] }], '/b'), { root: '/', path: '/b/pw' });
  t.same(passwdAtCreate('/r', [{ destination: '/etc/', source: '/host/etc', options: ['bind'] }], '/b'), { root: '/host/etc', path: 'passwd' });
  t.same(passwdAtCreate('/r', [{ destination: '/etc/passwd', type: 'bind', source: '/a' }, { destination: '/etc', type: 'tmpfs', source: 'tmpfs' }], '/b'), undefined, 'a tmpfs over /etc hides it');
  t.same(passwdAtCreate('/r', [{ destination: '/etcetera', type: 'bind', source: '/x' }], '/b'), { root: '/r', path: '/etc/passwd' }, 'prefix match by path component only');
  t.same(passwdAtExec(42, true), { root: '/proc/42/root', path: '/etc/passwd' });
  t.same(passwdAtExec(42, false), { root: '/', path: '/etc/passwd' }, 'without a mount namespace exec runs on the caller\'s root');
});
