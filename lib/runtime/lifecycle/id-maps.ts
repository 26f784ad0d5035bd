// linux.uidMappings / gidMappings: the host ids they name, and the text /proc/<pid>/{uid,gid}_map takes.
import type { IdMapping } from '../spec/types';

/** The host id that a container id maps to (itself without mappings). */
export function hostId(maps: IdMapping[] | undefined, id: number): number {
  for (const m of maps ?? []) if (id >= m.containerID && id < m.containerID + m.size) return m.hostID + id - m.containerID;
  return id;
}

export function idMapText(maps: IdMapping[] | undefined): string {
  return (maps ?? []).map((m) => `${m.containerID} ${m.hostID} ${m.size}\n`).join('');
}
