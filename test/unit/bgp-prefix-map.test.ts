// lib/cni/bgp/prefix-map.ts: FibSync's record of the kernel keyed by prefix text. Canonical IPv4 prefixes
// are held as integers and must come back as the very text that was set; anything else is kept as text.
import t from 'tap';
import { PrefixMap } from '../../lib/cni/bgp/prefix-map';
import { keyIPv4, prefixKey } from '../../lib/cni/bgp/prefix-key';
import { parsePrefix } from '../../lib/cni/bgp/codec/prefix';

t.test('canonical IPv4 prefixes of every length come back as the same text', async (t) => {
  const m = new PrefixMap<number>();
  const set = ['0.0.0.0/0', '10.0.0.0/8', '32.1.2.0/24', '255.255.255.255/32', '128.0.0.0/1', '192.168.1.128/25', '1.2.3.4/32', '10.1.0.0/16'];
  set.forEach((p, i) => m.set(p, i));
  t.equal(m.size, set.length);
  t.same([...m.keys()].sort(), [...set].sort(), 'keys() gives back exactly the strings set');
  set.forEach((p, i) => t.equal(m.get(p), i, `get ${p}`));
  t.same(new Map(m.entries()), new Map(set.map((p, i) => [p, i])), 'entries() pairs each text with its value');
});

t.test('a prefix is one key: set again replaces, delete removes, has follows', async (t) => {
  const m = new PrefixMap<string>([['32.0.0.0/24', 'a']]);
  m.set('32.0.0.0/24', 'b');
  t.equal(m.size, 1);
  t.equal(m.get('32.0.0.0/24'), 'b');
  t.notOk(m.has('32.0.0.0/25'), 'another length is another prefix');
  t.notOk(m.has('32.0.1.0/24'));
  t.ok(m.delete('32.0.0.0/24'));
  t.notOk(m.delete('32.0.0.0/24'), 'deleting twice: nothing the second time');
  t.equal(m.size, 0);
  t.equal(m.get('32.0.0.0/24'), undefined);
});

t.test('IPv6 and text that is not a canonical IPv4 prefix are kept as text, apart from the integers', async (t) => {
  const odd = ['2001:db8::/32', 'fd00::1/128', '10.0.0.1/24', '010.0.0.0/8', '10.0.0.0/08', '10.0.0/24', '10.0.0.0.0/32', '256.0.0.0/8', '10.0.0.0/33', '10.0.0.0', '10.0.0.0/', 'x'];
  const m = new PrefixMap<number>();
  odd.forEach((p, i) => m.set(p, i));
  m.set('10.0.0.0/24', 99);
  t.equal(m.size, odd.length + 1, 'none of them collides with the canonical 10.0.0.0/24');
  t.same([...m.keys()].sort(), [...odd, '10.0.0.0/24'].sort());
  odd.forEach((p, i) => t.equal(m.get(p), i, `get ${p}`));
  t.equal(m.get('10.0.0.0/24'), 99);
});

t.test('entries set while keys() is being walked, and deleted ones, behave as with a Map', async (t) => {
  const m = new PrefixMap<number>();
  for (let i = 0; i < 100; i++) m.set(`32.0.${i}.0/24`, i);
  const seen: string[] = [];
  for (const p of m.keys()) {
    seen.push(p);
    if (p === '32.0.0.0/24') { m.delete('32.0.99.0/24'); m.set('32.0.200.0/24', 200); }
  }
  t.notOk(seen.includes('32.0.99.0/24'), 'a key deleted during the walk is not visited');
  t.ok(seen.includes('32.0.200.0/24'), 'a key added during the walk is visited');
  t.equal(seen.length, 100);
});

t.test('by key and by text are the same entry; a numeric key gives back the network and length parsePrefix reads', async (t) => {
  const m = new PrefixMap<number>();
  m.setKey(prefixKey('10.1.0.0/16'), 1);
  t.equal(m.get('10.1.0.0/16'), 1, 'set by key, read by text');
  m.set('2001:db8::/32', 2);
  t.equal(m.getKey(prefixKey('2001:db8::/32')), 2, 'set by text, read by key (a text key)');
  t.ok(m.hasKey(prefixKey('10.1.0.0/16')));
  t.same([...m.rawKeys()], [prefixKey('10.1.0.0/16'), '2001:db8::/32']);
  t.ok(m.deleteKey(prefixKey('10.1.0.0/16')));
  t.notOk(m.has('10.1.0.0/16'));
  let wrong = 0;
  for (let len = 0; len <= 32; len++) {
    for (let i = 0; i < 200; i++) {
      const raw = (Math.random() * 2 ** 32) >>> 0;
      const addr = len === 0 ? 0 : (raw & (0xffffffff << (32 - len))) >>> 0;
      const text = `${addr >>> 24}.${(addr >>> 16) & 255}.${(addr >>> 8) & 255}.${addr & 255}/${len}`;
      const key = prefixKey(text);
      const p = parsePrefix(text);
      if (typeof key !== 'number') { wrong++; continue; }
      const k = keyIPv4(key);
      if (k.len !== p.len || k.addr !== p.bytes.readUInt32BE(0)) wrong++;
    }
  }
  t.equal(wrong, 0, 'every length: key arithmetic matches the parsed text');
});
