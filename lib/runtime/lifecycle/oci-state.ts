// The OCI state hooks receive on stdin (runtime-spec "State").
import type { State } from '../spec/types';
import type { StoredState } from '../state';
import type { Status } from '../status';

export function ociState(s: StoredState, status: Status | 'creating'): State {
  return { ociVersion: s.config.ociVersion, id: s.id, status, pid: s.pid, bundle: s.bundle, annotations: s.annotations };
}
