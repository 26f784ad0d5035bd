// The lifecycle, one file per operation; each takes the Sys it runs on (../sys.ts).
export { createStored, type CreateOptions } from './create';
export { start } from './start';
export { kill } from './kill';
export { del, type DeleteOptions } from './delete';
export { exec, type ExecOptions } from './exec';
export { run, type RunOptions } from './run';
export { pause, resume } from './pause';
export { wait } from './wait';
export { pids, stored } from './query';
