// Requests sent from libuv's threadpool (native/src/rtnl.c): DEL removes the host end of a veth this way so
// the kernel's RCU wait does not block the plugin's thread. They act in the namespace the process started
// in, so this test runs in a network namespace of its own (reexecIsolated).
import { reexecIsolated } from '../helpers/isolate';
reexecIsolated({ net: true });

import t from 'tap';
import { execFileSync, spawnSync } from 'node:child_process';
import { createNetns } from '../helpers/netns';
import { deleteHostLinkByName, NetlinkError, withNetns } from '../../lib/cni/net';
import { requestOffThread } from '../../lib/cni/net/nl/socket';
import { native } from '../../lib/sys/native';

// asked of the kernel, not /sys: sysfs shows the namespace it was mounted in
const linkExists = (name: string, netns?: string) =>
  spawnSync('ip', [...(netns ? ['-n', netns] : []), 'link', 'show', name], { stdio: 'ignore' }).status === 0;

t.test('a veth is removed from a worker thread, both ends, while this thread keeps running', async (t) => {
  const ctr = createNetns('offthread');
  t.teardown(() => ctr.remove());
  execFileSync('ip', ['link', 'add', 'vethofft', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ctr.name]);
  t.ok(linkExists('vethofft'), 'the host end exists');
  // one call first, so loading the addon and compiling the path are not what is measured
  t.equal(await deleteHostLinkByName('vethnone'), false, 'a link that is not there: false');
  // the call returns at once; the kernel's removal (15-25 ms here, waiting for RCU) happens on a worker
  const t0 = process.hrtime.bigint();
  const removal = deleteHostLinkByName('vethofft');
  const callMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const removed = await removal;
  const totalMs = Number(process.hrtime.bigint() - t0) / 1e6;
  t.ok(callMs < 5, `the calling thread was not held: ${callMs.toFixed(2)} ms in the call, ${totalMs.toFixed(1)} ms until removed`);
  t.equal(removed, true, 'reported as removed');
  t.notOk(linkExists('vethofft'), 'the host end is gone');
  t.notOk(linkExists('eth0', ctr.name), 'the container end went with it');
  t.equal(await deleteHostLinkByName('vethofft'), false, 'a second removal finds nothing: false, not an error');
});

t.test('it acts in the namespace the process started in, not the one the main thread entered', async (t) => {
  const other = createNetns('offthread');
  t.teardown(() => other.remove());
  execFileSync('ip', ['-n', other.name, 'link', 'add', 'dummyish', 'type', 'bridge']);
  // the main thread inside `other`: the worker's socket is still in this process's own namespace
  const removed = await withNetns(other.path, () => deleteHostLinkByName('dummyish'));
  t.equal(removed, false, 'the link in the other namespace was not seen');
  t.ok(linkExists('dummyish', other.name), 'and it is still there');
});

t.test('a kernel refusal is a NetlinkError naming the errno; a malformed message is a TypeError', async (t) => {
  // RTM_NEWLINK (16) without a kind: the kernel refuses it
  const body = Buffer.alloc(16);
  await t.rejects(requestOffThread('new link without kind', 16, 0x400 /* NLM_F_CREATE */, body), NetlinkError);
  const err = await requestOffThread('new link without kind', 16, 0x400, body).catch((e: NetlinkError) => e);
  t.match(err, { op: 'new link without kind', code: /^E[A-Z]+$/ }, `errno named: ${(err as Error).message}`);
  t.throws(() => native().rtnlRequest(Buffer.alloc(8)), { name: 'TypeError' }, 'shorter than a header');
  const lying = Buffer.alloc(32);
  lying.writeUInt32LE(64, 0);
  t.throws(() => native().rtnlRequest(lying), { name: 'TypeError' }, 'nlmsg_len must be the buffer length');
});
