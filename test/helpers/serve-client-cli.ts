// The test client as a command, for calls that must come from another namespace (a CNI test's node netns,
// where its server runs): argv[2] is the root, argv[3] a JSON CallOptions; prints the CallResult as JSON.
import { call } from './serve-client';

call(process.argv[2], JSON.parse(process.argv[3])).then((r) => {
  process.stdout.write(JSON.stringify(r) + '\n');
}, (e: unknown) => {
  process.stderr.write(`${String(e)}\n`);
  process.exitCode = 1;
});
