import t from 'tap';
import { CAP_LAST_CAP, CAPABILITIES, capabilityMask, capabilityNames, capabilityNumber } from '../../lib/runtime/tables/capabilities';

t.test('capability numbers match <linux/capability.h>', async (t) => {
  t.equal(CAPABILITIES.CAP_CHOWN, 0);
  t.equal(CAPABILITIES.CAP_NET_BIND_SERVICE, 10);
  t.equal(CAPABILITIES.CAP_SYS_ADMIN, 21);
  t.equal(CAPABILITIES.CAP_AUDIT_WRITE, 29);
  t.equal(CAPABILITIES.CAP_CHECKPOINT_RESTORE, 40);
  const numbers = Object.values(CAPABILITIES).sort((a, b) => a - b);
  t.same(numbers, Array.from({ length: CAP_LAST_CAP + 1 }, (_, i) => i), 'every number 0..40 exactly once');
});

t.test('capabilityMask sets one bit per name', async (t) => {
  t.equal(capabilityMask([], 'x'), 0n);
  t.equal(capabilityMask(['CAP_CHOWN', 'CAP_KILL', 'CAP_KILL'], 'x'), (1n << 0n) | (1n << 5n));
  t.equal(capabilityMask(['CAP_MAC_OVERRIDE', 'CAP_CHECKPOINT_RESTORE'], 'x'), (1n << 32n) | (1n << 40n), 'bits above 31');
  t.same(capabilityNames(capabilityMask(['CAP_NET_RAW', 'CAP_BPF', 'CAP_CHOWN'], 'x')), ['CAP_CHOWN', 'CAP_NET_RAW', 'CAP_BPF']);
});

t.test('unknown capability names throw a ConfigError naming the entry', async (t) => {
  t.throws(() => capabilityMask(['CAP_CHOWN', 'CAP_FLY'], 'process.capabilities.bounding'),
    { name: 'ConfigError', message: 'process.capabilities.bounding[1]: unknown capability "CAP_FLY"' });
  t.throws(() => capabilityNumber('cap_chown', 'f'), { message: 'f: unknown capability "cap_chown"' }, 'names are case-sensitive, as in runc');
  t.throws(() => capabilityNumber('toString', 'f'), { message: /unknown capability "toString"/ }, 'no prototype keys');
});
