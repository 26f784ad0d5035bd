// The real bin/berth answers --help and -h as runc does: usage on stdout, nothing on stderr, exit 0
// (issue 12: `berth run --help` said `flag provided but not defined: -help`). No root needed.
import t from 'tap';
import { berth } from '../helpers/run';

const cases: [string[], RegExp[]][] = [
  [['run', '--help'], [/^NAME:\n   berth run - create and run a container\n/, /\nUSAGE:\n   berth run \[command options\] <container-id>/, /\n   --bundle DIR, -b DIR +path to the root of the bundle/, /\n   --detach, -d +/, /\n   --preserve-fds N .*\(default: 0\)/]],
  [['run', '-h'], [/^NAME:\n   berth run - /]],
  [['image', '--help'], [/^NAME:\n   berth image - /, /\nCOMMANDS:\n   import +import an OCI/, /\n   --data-root DIR +the image store/]],
  [['image', 'import', '-h'], [/^NAME:\n   berth image import - /, /\n   --name NAME /]],
  [['agent', 'run', '--help'], [/^NAME:\n   berth agent run - /, /\n   --backend vxlan\|bgp\|host-gw +.*\(default: vxlan\)/, /\n   --bgp-peer ADDR@ASN +/]],
  [['agent', 'status', '-h'], [/\n   --run-dir DIR +/]],
  [['bgp', 'routes', '--help'], [/\n   --all +/]],
  [['lab', 'up', '--help'], [/\n   --nodes N +how many nodes/]],
  [['--root', '/nonexistent', 'state', '--help'], [/^NAME:\n   berth state - output the state of a container\n/]],
  [['--help'], [/^NAME:\n   berth - /, /\nCOMMANDS:\n(   .*\n)*   state +/, /\n   --root DIR +.*\(default: \/run\/berth\)/]],
  [['-h'], [/^NAME:\n   berth - /]],
  [['help'], [/^NAME:\n   berth - /]],
  [['help', 'kill'], [/^NAME:\n   berth kill - /, /\n   --all, -a +/]],
];

for (const [args, res] of cases) {
  t.test(`berth ${args.join(' ')}`, async (t) => {
    const r = await berth(args);
    t.equal(r.code, 0, 'exit 0');
    t.equal(r.stderr, '', 'nothing on stderr');
    for (const re of res) t.match(r.stdout, re);
  });
}

t.test('a flag that is not defined is still refused in one line, naming the command', async (t) => {
  const r = await berth(['run', '--frobnicate']);
  t.equal(r.code, 1);
  t.equal(r.stderr, 'berth: berth run: flag provided but not defined: -frobnicate\n');
});
