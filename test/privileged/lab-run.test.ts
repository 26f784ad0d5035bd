// `berth lab run NODE [berth run args]`: a container started on a lab node through `berth run --net` with
// the node's conflist (berth-vxlan) gets an address from the node's subnet and reaches a pod on another node.
import t from 'tap';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pingBundle, testLab } from '../helpers/lab';
import { berth } from '../helpers/run';

t.test('berth lab run: a container on n1 gets an address from n1\'s subnet and pings a pod on n2', async (t) => {
  const lab = await testLab(t, { nodes: 2, tag: 'run' });
  const pod = lab.addPod('n2', 'target');
  const bundle = await pingBundle(t, pod.ip);
  const id = `labrun-${process.pid}`;
  const r = await berth(['lab', 'run', '--name', lab.state.name, 'n1', '--bundle', bundle, id]);
  t.equal(r.code, 0, r.stderr + r.stdout);
  const prefix = lab.settings('n1').subnet.split('.').slice(0, 3).join('\\.');
  t.match(r.stdout, new RegExp(`inet ${prefix}\\.\\d+/24`), 'address from n1\'s lease');
  t.match(r.stdout, /2 packets transmitted, 2 packets received/);
  t.same(fs.readdirSync(path.join(lab.node('n1').dataDir, 'ipam', 'berth')).filter((f) => /^\d/.test(f)), [], 'the address was released when the container was deleted');
});
