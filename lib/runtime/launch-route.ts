// Where a launch runs. Cold, the addon forks the bootstrap here; in the warm server (issue #13) a create or
// run request's container must be the client's descendant, so the server routes its launches and the wait
// for a foreground run's exit to the native front-end that asked (lib/server/remote-launch.ts).
import type { LaunchCallbacks, Launched } from './launcher';
import type { LaunchPlan } from './launch-plan';

export interface LaunchRoute {
  launch(plan: LaunchPlan, callbacks: LaunchCallbacks): Promise<Launched>;
  /** the exit of a process the route launched (its parent waits for it); code is 128+signal when killed */
  waitPid(pid: number, onExit: (code: number, signal: number) => void): void;
}

// On globalThis: the CLI bundle (dist/cli/berth.js) carries its own copy of this module, and the server
// and the commands left outside the bundle load tsc's.
const ROUTE = Symbol.for('berth.launch-route');
type Router = () => LaunchRoute | undefined;
const slot = globalThis as unknown as Record<typeof ROUTE, Router | undefined>;

/** Installed once by the server: the route of the request running now, if it has one. */
export function routeLaunch(route: Router): void {
  slot[ROUTE] = route;
}

export function launchRoute(): LaunchRoute | undefined {
  return slot[ROUTE]?.();
}
