import t from 'tap';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { detectLayout, updateResources } from '../../lib/cgroups';
import { reduceDeviceRules } from '../../lib/cgroups/device-rules';
import { deviceProgramBytes } from '../../lib/cgroups/devices-bpf';
import { attachedDevicePrograms, installDeviceProgram } from '../../lib/cgroups/devices-v2';
import type { LinuxDeviceCgroup } from '../../lib/runtime/spec/types';
import { runIn, testCgroup, within } from './cgroups-fixture';

// deny everything, then allow /dev/zero (c 1:5) only
const RULES: LinuxDeviceCgroup[] = [
  { allow: false, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 5, access: 'rwm' },
];

/** Opens /dev/null for writing and /dev/zero for reading inside the cgroup; reports each outcome. */
const PROBE = `if echo x > /dev/null; then echo null=ok; else echo null=denied; fi;
  if x=$(head -c 1 /dev/zero); then echo zero=ok; else echo zero=denied; fi`;

t.test('device rules deny opening a device the container was not given', async (t) => {
  const h = await testCgroup(t, 'devices', { devices: RULES });
  const p = await runIn(t, h, PROBE);
  t.same(await within(p.exited, 5000), { code: 0, signal: null });
  t.match(p.output(), /null=denied/, '/dev/null is denied');
  t.match(p.output(), /zero=ok/, '/dev/zero is allowed');
});

t.test('updating device rules on a live v1 cgroup swaps the allowed device', { skip: detectLayout() === 'v2' ? 'v1 devices controller only' : false }, async (t) => {
  const h = await testCgroup(t, 'devices-update', { devices: RULES });
  await updateResources(h, { devices: [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' }] });
  t.equal(fs.readFileSync(path.join(h.paths.devices, 'devices.list'), 'utf8').trim(), 'c 1:3 rwm', 'only /dev/null now');
  const p = await runIn(t, h, PROBE);
  await within(p.exited, 5000);
  t.match(p.output(), /null=ok/, '/dev/null opens');
  t.match(p.output(), /zero=denied/, '/dev/zero is refused');
});

t.test('the same rules allow everything when the cgroup has none', async (t) => {
  const h = await testCgroup(t, 'devices-open', {});
  const p = await runIn(t, h, PROBE);
  await within(p.exited, 5000);
  t.match(p.output(), /null=ok/);
  t.match(p.output(), /zero=ok/);
});

t.test('a generated BPF device program loads, enforces and is replaced on update', { skip: detectLayout() === 'v1' ? 'no cgroup v2 tree' : false }, async (t) => {
  const h = await testCgroup(t, 'devices-bpf', {});
  const dir = h.paths.unified;
  // the verifier accepts it, and with BPF_F_ALLOW_MULTI it is the one program on this cgroup
  await installDeviceProgram(dir, deviceProgramBytes(reduceDeviceRules(RULES)), 'test');
  const first = await attachedDevicePrograms(dir);
  t.equal(first.length, 1, 'one program attached');
  const p = await runIn(t, h, PROBE);
  await within(p.exited, 5000);
  t.match(p.output(), /null=denied/, 'the program denies /dev/null');
  t.match(p.output(), /zero=ok/, 'and allows /dev/zero');
  // an update attaches the new program before detaching the old one: still exactly one
  await installDeviceProgram(dir, deviceProgramBytes(reduceDeviceRules([{ allow: true, access: 'rwm' }])), 'test');
  const second = await attachedDevicePrograms(dir);
  t.equal(second.length, 1, 'still one program');
  t.not(second[0], first[0], 'and it is the new one');
  const q = await runIn(t, h, PROBE);
  await within(q.exited, 5000);
  t.match(q.output(), /null=ok/, 'allow-all lets /dev/null open again');
});
