import t from 'tap';
import { personalityDomain, personalityFlags, personalityValue } from '../../lib/runtime/tables/personality';
import { RLIMITS, rlimitNumber } from '../../lib/runtime/tables/rlimits';
import { parseSignal, signalName } from '../../lib/runtime/tables/signals';

t.test('rlimit numbers match <asm-generic/resource.h>', async (t) => {
  t.equal(rlimitNumber('RLIMIT_CPU', 'f'), 0);
  t.equal(rlimitNumber('RLIMIT_NOFILE', 'f'), 7);
  t.equal(rlimitNumber('RLIMIT_NPROC', 'f'), 6);
  t.equal(rlimitNumber('RLIMIT_RTTIME', 'f'), 15);
  t.same(Object.values(RLIMITS).sort((a, b) => a - b), Array.from({ length: 16 }, (_, i) => i));
  t.throws(() => rlimitNumber('RLIMIT_FOO', 'process.rlimits[2].type'), { name: 'ConfigError', message: 'process.rlimits[2].type: unknown rlimit type "RLIMIT_FOO"' });
  t.throws(() => rlimitNumber('constructor', 'f'), /unknown rlimit type/);
});

t.test('parseSignal takes numbers and names with or without SIG, in any case, like runc', async (t) => {
  for (const s of ['9', 'KILL', 'SIGKILL', 'sigkill', 'Kill']) t.equal(parseSignal(s), 9, s);
  t.equal(parseSignal('TERM'), 15);
  t.equal(parseSignal('SIGUSR1'), 10);
  t.equal(parseSignal('chld'), 17);
  t.equal(parseSignal('SIGWINCH'), 28);
  t.equal(parseSignal('0'), 0, 'signal 0 probes for the process');
  t.equal(parseSignal('RTMIN'), 34);
  t.equal(parseSignal('SIGRTMIN+3'), 37);
  t.equal(parseSignal('rtmax-1'), 63);
  t.equal(parseSignal('64'), 64);
});

t.test('parseSignal rejects what it does not know, naming the field', async (t) => {
  t.throws(() => parseSignal('SIGFOO'), { name: 'ConfigError', message: 'signal: unknown signal "SIGFOO"' });
  t.throws(() => parseSignal('65', 'kill'), { message: 'kill: signal number 65 is out of range 0-64' });
  t.throws(() => parseSignal('-9'), /unknown signal "-9"/);
  t.throws(() => parseSignal('RTMAX+1'), /unknown signal/);
  t.throws(() => parseSignal(''), /unknown signal ""/);
});

t.test('signalName is the inverse of parseSignal', async (t) => {
  t.equal(signalName(9), 'SIGKILL');
  t.equal(signalName(6), 'SIGABRT', 'not the SIGIOT alias');
  t.equal(signalName(29), 'SIGIO');
  t.equal(signalName(36), 'SIGRTMIN+2');
  t.equal(signalName(64), 'SIGRTMAX');
  t.equal(signalName(99), '99');
  for (let n = 1; n <= 64; n++) if (n !== 32 && n !== 33) t.equal(parseSignal(signalName(n)), n, `round trip ${n}`);
});

t.test('personality domains and flags match <linux/personality.h>', async (t) => {
  t.equal(personalityDomain('LINUX', 'f'), 0);
  t.equal(personalityDomain('LINUX32', 'f'), 8);
  t.throws(() => personalityDomain('BSD', 'linux.personality.domain'), { name: 'ConfigError', message: /^linux\.personality\.domain: unknown personality domain "BSD"/ });
  t.equal(personalityFlags(['ADDR_NO_RANDOMIZE', 'READ_IMPLIES_EXEC'], 'f'), 0x0040000 | 0x0400000);
  t.equal(personalityValue({ domain: 'LINUX32', flags: ['UNAME26'] }, 'linux.personality'), 0x0020008);
  t.throws(() => personalityValue({ domain: 'LINUX', flags: ['FAST'] }, 'linux.personality'), { message: 'linux.personality.flags[0]: unknown personality flag "FAST"' });
});
