// Every command and sub-command of `berth` answers --help and -h with its usage on stdout and exits 0, and
// that usage names every flag of the command's table, the same table its parser reads. Walks the table.
import t from 'tap';
import * as io from '../../lib/util/io';
import { isGroup, parseFlags, resolve, runEntry, type Entry } from '../../lib/util/command-line';
import { BERTH } from '../../lib/runtime/cli/main';
import type { Globals } from '../../lib/runtime/cli/context';
import { Logger } from '../../lib/runtime/cli/log';

/** Every entry of the table, by the name it is called with (`berth image import`), groups included. */
function walk(name: string, entry: Entry<Globals>, out: [string, Entry<Globals>][] = []): [string, Entry<Globals>][] {
  out.push([name, entry]);
  const e = resolve(entry);
  if (isGroup(e)) for (const [sub, next] of Object.entries(e.commands())) walk(`${name} ${sub}`, next, out);
  return out;
}

/** What runEntry writes on stdout (through lib/util/io) while it runs. */
async function captured(fn: () => Promise<number>): Promise<{ code: number; stdout: string }> {
  const mod = io as { out: (s: string) => void };
  const real = mod.out;
  let stdout = '';
  mod.out = (s) => { stdout += s; };
  try {
    return { code: await fn(), stdout };
  } finally {
    mod.out = real;
  }
}

const g: Globals = { root: '/nonexistent/berth-cli-help', log: new Logger(undefined, 'text', false), debug: false };
const all = walk('berth', BERTH);

t.test('the table holds every command runc has and every berth sub-command', async (t) => {
  const names = new Set(all.map(([n]) => n));
  const want = [
    'spec', 'create', 'start', 'run', 'state', 'kill', 'delete', 'exec', 'ps', 'list', 'pause', 'resume', 'events', 'update', 'features',
    'image', 'image import', 'image ls', 'image inspect', 'image rm', 'image gc',
    'lab', 'lab up', 'lab status', 'lab exec', 'lab run', 'lab down', 'lab demo',
    'agent', 'agent run', 'agent status', 'bgp', 'bgp peers', 'bgp routes',
  ];
  for (const w of want) t.ok(names.has(`berth ${w}`), `berth ${w}`);
});

for (const [name, entry] of all) {
  t.test(`${name} --help and -h: usage on stdout, every flag, exit 0`, async (t) => {
    const e = resolve(entry);
    for (const flag of ['--help', '-h']) {
      // the argv after the command's own name: runEntry is what main and the groups run
      const r = await captured(() => runEntry(name, entry, [flag], g));
      t.equal(r.code, 0, `${name} ${flag}: exit 0`);
      t.match(r.stdout, new RegExp(`^NAME:\\n   ${name} - \\S`), `${name} ${flag}: names the command`);
      t.match(r.stdout, new RegExp(`\\nUSAGE:\\n   ${name}\\b`), `${name} ${flag}: usage line`);
      const options = r.stdout.slice(r.stdout.indexOf('\nOPTIONS:\n'));
      for (const [f, def] of Object.entries(e.flags)) {
        const line = options.split('\n').find((l) => l.startsWith(`   --${f}${def.value ? ' ' : ''}`) || l.startsWith(`   --${f},`) || l === `   --${f}`);
        t.ok(line, `${name} ${flag}: a line for --${f}`);
        if (def.alias) t.match(line ?? '', `, -${def.alias.length > 1 ? '-' : ''}${def.alias}`, `${name}: --${f}'s alias`);
        t.ok((line ?? '').includes(def.help), `${name}: --${f}'s description`);
        if (def.default !== undefined) t.ok((line ?? '').includes(`(default: ${def.default}`), `${name}: --${f}'s default`);
      }
      t.match(options, /\n   --help, -h +show help\n/);
      if (isGroup(e)) for (const sub of Object.keys(e.commands())) t.match(r.stdout, new RegExp(`\\nCOMMANDS:\\n(   .*\\n)*   ${sub} `), `${name}: lists ${sub}`);
    }
  });
}

t.test('the parser reads the flags --help shows, and refuses others naming the command', async (t) => {
  for (const [name, entry] of all) {
    const e = resolve(entry);
    for (const [f, def] of Object.entries(e.flags)) {
      const p = parseFlags(def.value ? [`--${f}`, 'x'] : [`--${f}`], e.flags, name);
      t.equal(p.flags[f] instanceof Array ? p.flags[f][0] : p.flags[f], def.value ? 'x' : true, `${name} --${f}`);
      if (def.alias) t.same(parseFlags(def.value ? [`-${def.alias}`, 'x'] : [`-${def.alias}`], e.flags, name).flags[f], parseFlags(def.value ? [`--${f}`, 'x'] : [`--${f}`], e.flags, name).flags[f], `${name} -${def.alias}`);
    }
    t.throws(() => parseFlags(['--no-such-flag'], e.flags, name), { message: `${name}: flag provided but not defined: -no-such-flag` });
  }
});

t.test('help COMMAND in a group, and help for nothing', async (t) => {
  const r = await captured(() => runEntry('berth', BERTH, ['help', 'run'], g));
  t.equal(r.code, 0);
  t.match(r.stdout, /^NAME:\n   berth run - /);
  const i = await captured(() => runEntry('berth', BERTH, ['image', 'help', 'import'], g));
  t.match(i.stdout, /^NAME:\n   berth image import - .*\n[^]*--name NAME/);
  await t.rejects(runEntry('berth', BERTH, ['help', 'nosuch'], g), { message: 'berth: no help topic for "nosuch"' });
});
