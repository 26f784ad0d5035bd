// `berth image ...`: the OverlayFS image store (lib/overlayfs), under --data-root (default /var/lib/berth).
import { parseFlags, str } from './args';
import type { Command } from './context';

export const image: Command = async (argv) => {
  const p = parseFlags(argv, { 'data-root': { value: true } }, 'image');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { imageCommand, DEFAULT_DATA_ROOT } = require('../../overlayfs') as typeof import('../../overlayfs');
  return imageCommand(p.positional, { dataRoot: str(p, 'data-root') ?? DEFAULT_DATA_ROOT });
};
