// berth-macvlan: a macvlan sub-interface of `master` per container (the reference macvlan plugin's keys).
import { lowerLinkPlugin } from './lower-link';

export const ABOUT = 'berth-macvlan: CNI macvlan plugin (bridge, vepa, private, passthru)';

export const plugin = lowerLinkPlugin({ kind: 'macvlan', modes: ['bridge', 'vepa', 'private', 'passthru'] as const, defaultMode: 'bridge', routed: [] });
