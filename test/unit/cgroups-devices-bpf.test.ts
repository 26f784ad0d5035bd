import t from 'tap';
import { accessBits, reduceDeviceRules, v1DeviceWrites, type DevicePolicy } from '../../lib/cgroups/device-rules';
import { DEV_TYPE, OP, decode, deviceProgramBytes, type Insn } from '../../lib/cgroups/devices-bpf';
import type { LinuxDeviceCgroup } from '../../lib/runtime/spec/types';

interface Request {
  type: 'b' | 'c';
  major: number;
  minor: number;
  access: string;
}

/** A tiny eBPF interpreter for the instructions the generator emits; rejects anything else. */
function run(prog: Insn[], req: Request): number {
  const ctx = [(accessBits(req.access) << 16) | DEV_TYPE[req.type], req.major, req.minor];
  const r = new Array<number>(11).fill(0);
  for (let pc = 0, steps = 0; steps < 10000; steps++) {
    if (pc < 0 || pc >= prog.length) throw new Error(`pc ${pc} out of the program`);
    const i = prog[pc];
    pc++;
    switch (i.op) {
      case OP.LDXW:
        if (i.src !== 1 || i.off % 4 !== 0) throw new Error('load not from ctx');
        r[i.dst] = ctx[i.off / 4];
        break;
      case OP.AND32K: r[i.dst] = (r[i.dst] & i.imm) >>> 0; break;
      case OP.RSH32K: r[i.dst] = r[i.dst] >>> i.imm; break;
      case OP.MOV32K: r[i.dst] = i.imm >>> 0; break;
      case OP.MOV32X: r[i.dst] = r[i.src]; break;
      case OP.JNEK: if (r[i.dst] !== i.imm) pc += i.off; break;
      case OP.JEQK: if (r[i.dst] === i.imm) pc += i.off; break;
      case OP.JNEX: if (r[i.dst] !== r[i.src]) pc += i.off; break;
      case OP.EXIT: return r[0];
      default: throw new Error(`unexpected opcode 0x${i.op.toString(16)}`);
    }
  }
  throw new Error('no exit');
}

/** The v1 devices controller's own semantics, written from the kernel docs, as the reference. */
function reference(p: DevicePolicy, req: Request): number {
  const bits = accessBits(req.access);
  const matches = p.exceptions.filter((e) => (e.type === 'a' || e.type === req.type) && (e.major === -1 || e.major === req.major) && (e.minor === -1 || e.minor === req.minor));
  if (p.defaultAllow) return matches.some((e) => (e.access & bits) !== 0) ? 0 : 1;
  return matches.some((e) => (bits & ~e.access) === 0) ? 1 : 0;
}

const REQUESTS: Request[] = [];
for (const type of ['b', 'c'] as const) {
  for (const [major, minor] of [[1, 3], [1, 5], [5, 0], [8, 0], [136, 2], [10, 200]]) {
    for (const access of ['r', 'w', 'm', 'rw', 'rwm']) REQUESTS.push({ type, major, minor, access });
  }
}

const RULESETS: Record<string, LinuxDeviceCgroup[]> = {
  'runc defaults': [
    { allow: false, access: 'rwm' },
    { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' },
    { allow: true, type: 'c', major: 1, minor: 5, access: 'rwm' },
    { allow: true, type: 'c', major: 5, minor: 0, access: 'rwm' },
    { allow: true, type: 'c', major: 136, minor: -1, access: 'rwm' },
    { allow: true, type: 'c', access: 'm' },
    { allow: true, type: 'b', access: 'm' },
  ],
  'read-only block device': [{ allow: false, access: 'rwm' }, { allow: true, type: 'b', major: 8, minor: 0, access: 'r' }],
  'blacklist': [{ allow: true, access: 'rwm' }, { allow: false, type: 'c', major: 10, minor: 200, access: 'rw' }, { allow: false, type: 'b', access: 'w' }],
  'allow then take back': [{ allow: false }, { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' }, { allow: false, type: 'c', major: 1, minor: 3, access: 'w' }],
  'reset in the middle': [{ allow: false }, { allow: true, type: 'c', major: 1, minor: 3 }, { allow: true, access: 'rwm' }, { allow: false, type: 'c', major: 5, minor: 0 }],
  'empty list': [],
};

t.test('the generated program decides like the v1 devices controller for every request', async (t) => {
  for (const [name, rules] of Object.entries(RULESETS)) {
    const policy = reduceDeviceRules(rules);
    const prog = decode(deviceProgramBytes(policy));
    let wrong = 0;
    for (const req of REQUESTS) if (run(prog, req) !== reference(policy, req)) wrong++;
    t.equal(wrong, 0, `${name}: ${REQUESTS.length} requests`);
    t.equal(prog[prog.length - 1].op, OP.EXIT, `${name}: ends in exit`);
  }
});

t.test('expected verdicts for the runc default rules', async (t) => {
  const prog = decode(deviceProgramBytes(reduceDeviceRules(RULESETS['runc defaults'])));
  t.equal(run(prog, { type: 'c', major: 1, minor: 3, access: 'rw' }), 1, '/dev/null');
  t.equal(run(prog, { type: 'c', major: 136, minor: 7, access: 'rw' }), 1, '/dev/pts/7');
  t.equal(run(prog, { type: 'c', major: 10, minor: 200, access: 'rw' }), 0, '/dev/net/tun');
  t.equal(run(prog, { type: 'c', major: 10, minor: 200, access: 'm' }), 1, 'mknod of any char device');
  t.equal(run(prog, { type: 'b', major: 8, minor: 0, access: 'r' }), 0, 'reading a disk');
  const ro = decode(deviceProgramBytes(reduceDeviceRules(RULESETS['read-only block device'])));
  t.equal(run(ro, { type: 'b', major: 8, minor: 0, access: 'r' }), 1, 'read allowed');
  t.equal(run(ro, { type: 'b', major: 8, minor: 0, access: 'rw' }), 0, 'read+write refused');
});

t.test('reduceDeviceRules keeps v1 list semantics', async (t) => {
  t.same(reduceDeviceRules([]), { defaultAllow: true, exceptions: [] });
  t.same(reduceDeviceRules(RULESETS['allow then take back']), {
    defaultAllow: false, exceptions: [{ type: 'c', major: 1, minor: 3, access: 3 }],
  }, 'write bit removed from the exception');
  t.same(reduceDeviceRules(RULESETS['reset in the middle']), {
    defaultAllow: true, exceptions: [{ type: 'c', major: 5, minor: 0, access: 7 }],
  }, '"a" clears the list');
  // a deny for one device does not punch a hole in a wildcard allow (as in the kernel)
  t.same(reduceDeviceRules([{ allow: false }, { allow: true, type: 'c' }, { allow: false, type: 'c', major: 1, minor: 3 }]).exceptions,
    [{ type: 'c', major: -1, minor: -1, access: 7 }]);
});

t.test('v1 writes reset with "a" then list the exceptions', async (t) => {
  t.same(v1DeviceWrites(reduceDeviceRules(RULESETS['read-only block device'])), [
    { file: 'devices.deny', line: 'a' },
    { file: 'devices.allow', line: 'b 8:0 r' },
  ]);
  t.same(v1DeviceWrites(reduceDeviceRules(RULESETS.blacklist)).map((w) => `${w.file} ${w.line}`), [
    'devices.allow a', 'devices.deny c 10:200 rw', 'devices.deny b *:* w',
  ]);
});

t.test('instructions encode as 8-byte little-endian struct bpf_insn', async (t) => {
  const buf = deviceProgramBytes({ defaultAllow: false, exceptions: [{ type: 'c', major: 1, minor: 3, access: 7 }] });
  t.equal(buf.length % 8, 0);
  // first instruction: r2 = *(u32 *)(r1 + 0) -> 61 12 00 00 00 00 00 00
  t.equal(buf.subarray(0, 8).toString('hex'), '6112000000000000');
  const insns = decode(buf);
  const jne = insns.find((i) => i.op === OP.JNEK && i.dst === 4);
  t.equal(jne?.imm, 1, 'major compared');
  t.equal(insns.length, 6 + 5 + 2, 'prologue, one block of 3 checks + verdict, default');
});
