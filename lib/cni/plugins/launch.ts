// How bin/berth-<plugin> starts: from the plugin's one-file bundle (dist/plugins/berth-<plugin>.js, made by
// `npm run build:bundles`) with a V8 code cache per verb, while it is fresh, else from tsc's output (see
// lib/util/bundle.ts for why and how).
// Modules on a plugin's path import Node's built-ins as `import fs = require('node:fs')`: tsc compiles
// `import * as fs` into a copy of all of the module's properties (__importStar), paid again at every start-up.
import path = require('node:path');
import { cachePath as bundleCachePath, openBundle, requireBundle, type Bundle } from '../../util/bundle';

/** Each plugin's module below dist/lib/cni; it exports `plugin` and `ABOUT` for runPlugin. */
export const PLUGINS: Readonly<Record<string, string>> = {
  'berth-bridge': 'plugins/bridge',
  'berth-veth': 'plugins/veth',
  'berth-vxlan': 'plugins/vxlan',
  'berth-bgp': 'plugins/bgp',
  'berth-portmap': 'plugins/portmap',
  'berth-ipam': 'ipam/plugin',
  'berth-macvlan': 'plugins/macvlan',
  'berth-ipvlan': 'plugins/ipvlan',
};

const DIST = path.join(__dirname, '..', '..', '..');
const VERBS: ReadonlySet<string> = new Set(['ADD', 'DEL', 'CHECK', 'GC', 'STATUS', 'VERSION']);

export function bundlePath(name: string): string {
  return path.join(DIST, 'plugins', `${name}.js`);
}

/** The plugin's bundle while it is fresh, else undefined. */
export function bundleFresh(name: string): Bundle | undefined {
  return openBundle(bundlePath(name));
}

/** Where a verb's code cache lives (CNI_COMMAND never becomes a path: unknown verbs share "other"). */
export function cachePath(file: string, id: string, verb = process.env.CNI_COMMAND ?? ''): string {
  return bundleCachePath(file, id, verb, VERBS);
}

/** Runs plugin `name` (a key of PLUGINS) on this process's environment and stdin. */
export function launch(name: string): void {
  const mod = PLUGINS[name];
  if (!mod) throw new Error(`unknown berth plugin ${name}`);
  // the cold path: start a warm server for the next call (lib/server/autostart.ts)
  if (process.env.BERTH_NO_SERVER !== '1' && process.env.BERTH_NO_AUTOSTART !== '1') {
    (require('../../server/autostart') as typeof import('../../server/autostart')).ensureServerForPlugin();
  }
  const bundle = bundleFresh(name);
  if (bundle) {
    // the bundle's entry runs the plugin itself (scripts/bundle.js)
    requireBundle(bundle, process.env.CNI_COMMAND ?? '', VERBS);
    return;
  }
  const { runPlugin } = require('../skel') as typeof import('../skel');
  const { plugin, ABOUT } = require(path.join('..', mod)) as { plugin: import('../skel').Plugin; ABOUT: string };
  runPlugin(plugin, ABOUT);
}
