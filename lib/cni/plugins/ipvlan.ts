// berth-ipvlan: an ipvlan sub-interface of `master` per container (the reference ipvlan plugin's keys); in
// l3 and l3s the master routes, so the container's routes go out of the device without a gateway.
import { lowerLinkPlugin } from './lower-link';

export const ABOUT = 'berth-ipvlan: CNI ipvlan plugin (l2, l3, l3s)';

export const plugin = lowerLinkPlugin({ kind: 'ipvlan', modes: ['l2', 'l3', 'l3s'] as const, defaultMode: 'l2', routed: ['l3', 'l3s'] });
