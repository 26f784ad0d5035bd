// The sync protocol is written twice, in C (the bootstrap) and in TypeScript (the launcher that answers
// it). This compiles the C header and checks every step number, message type and header offset against
// lib/runtime/bootstrap-steps.ts: a step added, removed or moved on one side only fails here.
import t from 'tap';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MSG, PROTOCOL_HEADER, STEPS, SYNC_HEADER } from '../../lib/runtime/bootstrap-steps';
import { buildC, REPO, runC } from '../helpers/cc';

const header = fs.readFileSync(path.join(REPO, PROTOCOL_HEADER), 'utf8');

/** the enumerator names of `enum <name> { ... }`, in order */
function enumNames(name: string): string[] {
  const body = new RegExp(`enum ${name}\\s*\\{([^}]*)\\}`).exec(header.replace(/\/\*[\s\S]*?\*\//g, ''));
  if (!body) throw new Error(`enum ${name} not found in ${PROTOCOL_HEADER}`);
  return body[1].split(',').map((e) => e.trim().split(/\s|=/)[0]).filter(Boolean);
}

const msgName = (k: string) => `MSG_${k}`;
const probe = buildC('bootstrap-protocol', `
#include "${path.basename(PROTOCOL_HEADER)}"
#include <stddef.h>
#include <stdio.h>
int main(void) {
${STEPS.map(([c]) => `  printf("${c} %d\\n", (int)${c});`).join('\n')}
${Object.keys(MSG).map((k) => `  printf("${msgName(k)} %d\\n", (int)${msgName(k)});`).join('\n')}
  printf("size %zu\\n", sizeof(struct sync_msg));
${['type', 'a', 'b', 'c', 'len'].map((f) => `  printf("${f} %zu\\n", offsetof(struct sync_msg, ${f}));`).join('\n')}
  return 0;
}
`);
t.teardown(() => probe.cleanup());
const values = new Map(runC(probe).trim().split('\n').map((l) => l.split(' ') as [string, string]).map(([k, v]) => [k, Number(v)]));

t.test('every step of enum step, in order, with the number the bootstrap reports', async (t) => {
  t.same(STEPS.map(([c]) => c), enumNames('step'), 'the same names in the same order');
  STEPS.forEach(([c], i) => t.equal(values.get(c), i, `${c} is ${i}`));
});

t.test('every message type of enum msg_type', async (t) => {
  t.same(Object.keys(MSG).map(msgName).sort(), enumNames('msg_type').sort(), 'the same message types');
  for (const [k, v] of Object.entries(MSG)) t.equal(values.get(msgName(k)), v, `${msgName(k)} is ${v}`);
});

t.test('struct sync_msg: size and field offsets', async (t) => {
  t.equal(values.get('size'), SYNC_HEADER.size, 'header size');
  for (const f of ['type', 'a', 'b', 'c', 'len'] as const) t.equal(values.get(f), SYNC_HEADER[f], `offset of ${f}`);
});
