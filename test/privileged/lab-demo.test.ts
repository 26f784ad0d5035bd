// The README's first command: `berth lab demo` sets up a 2-node lab, runs a busybox container on each
// node pinging the other over the overlay, prints a summary and removes everything.
import t from 'tap';
import * as fs from 'node:fs';
import { berth } from '../helpers/run';

t.test('berth lab demo: containers on two nodes ping each other, summary printed, lab removed', async (t) => {
  const name = `demo${process.pid % 100000}`;
  const r = await berth(['lab', 'demo', '--name', name]);
  t.equal(r.code, 0, r.stderr + r.stdout);
  t.match(r.stdout, /node n1: underlay 10\.250\.0\.1, subnet 10\.244\.\d+\.0\/24, container MTU 1450/);
  t.match(r.stdout, /busybox1 \(n1\) -> busybox2 \(n2\) 10\.244\.\d+\.2: 3\/3 replies/);
  t.match(r.stdout, /busybox2 \(n2\) -> busybox1 \(n1\) 10\.244\.\d+\.2: 3\/3 replies/);
  t.match(r.stdout, new RegExp(`lab "${name}" removed\\n$`));
  t.same(fs.readdirSync('/run/netns').filter((n) => n.startsWith(`bl-${name}-`)), []);
  t.notOk(fs.existsSync(`/run/berth/lab/${name}`));
});
