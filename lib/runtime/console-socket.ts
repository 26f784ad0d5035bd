// --console-socket: the unix socket the bootstrap sends the terminal's master to.
import type * as net from 'node:net';
import { BerthError } from '../util/errors';

export function connectConsoleSocket(file: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = (require('node:net') as typeof import('node:net')).connect(file);
    s.once('connect', () => resolve(s));
    s.once('error', (e) => reject(new BerthError(`cannot connect to console socket ${file}: ${e.message}`, { field: '--console-socket' })));
  });
}
