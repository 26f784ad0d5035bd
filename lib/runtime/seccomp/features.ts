// The "linux.seccomp" part of `berth features` (runtime-spec features.md), from the compiler's own tables.
import { actionNames, flagNames } from './actions';
import { ARCHES } from './arches';
import { OPS } from './args';

export interface SeccompFeatures {
  enabled: boolean;
  actions: string[];
  operators: string[];
  archs: string[];
  knownFlags: string[];
  supportedFlags: string[];
}

export function seccompFeatures(): SeccompFeatures {
  return {
    enabled: true,
    actions: actionNames(),
    operators: [...OPS].sort(),
    archs: Object.keys(ARCHES).sort(),
    knownFlags: flagNames(),
    // WAIT_KILLABLE_RECV is accepted but dropped: it only means something with SCMP_ACT_NOTIFY.
    supportedFlags: flagNames().filter((f) => f !== 'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'),
  };
}
