// The overlay mount data string. Also used for OCI `mounts` entries of type overlay in plain bundles.
import { ImageError } from './errors';

/** The kernel copies mount data into one page: longer option strings fail with EINVAL or get truncated. */
export const MOUNT_DATA_MAX = 4095;

/** overlayfs splits options on ',' and lowerdir on ':', and honours '\' escapes for both. */
function escape(p: string): string {
  if (p === '') throw new ImageError('overlay: empty directory path');
  if (p.includes('\0') || p.includes('\n')) throw new ImageError(`overlay: bad directory path ${JSON.stringify(p)}`);
  return p.replace(/[\\:,]/g, (c) => `\\${c}`);
}

/** lowerdirs are listed top first, as overlayfs wants them. upperdir and workdir go together or not at all. */
export function overlayMountOptions(lowerdirs: string[], upperdir?: string, workdir?: string): string {
  if (lowerdirs.length === 0) throw new ImageError('overlay: at least one lowerdir is needed');
  if ((upperdir === undefined) !== (workdir === undefined)) throw new ImageError('overlay: upperdir and workdir must be given together');
  const opts = [`lowerdir=${lowerdirs.map(escape).join(':')}`];
  if (upperdir !== undefined && workdir !== undefined) opts.push(`upperdir=${escape(upperdir)}`, `workdir=${escape(workdir)}`);
  return opts.join(',');
}
