// Asks the running agent over its control socket (./server.ts): one request, one reply.
import * as net from 'node:net';
import * as path from 'node:path';
import { BerthError } from '../../../util/errors';
import { CONTROL_SOCKET, type ControlArgs, type ControlReply } from './server';

export async function askAgent(runDir: string, cmd: string, args: ControlArgs = {}): Promise<unknown> {
  const file = path.join(runDir, CONTROL_SOCKET);
  const text = await new Promise<string>((resolve, reject) => {
    const c = net.createConnection(file);
    let buf = '';
    c.setEncoding('utf8');
    c.on('connect', () => c.write(JSON.stringify({ cmd, args }) + '\n'));
    c.on('data', (d: string) => { buf += d; });
    c.on('end', () => resolve(buf));
    c.on('error', (e: NodeJS.ErrnoException) => reject(new BerthError(`no agent control socket at ${file} (is berth agent running?): ${e.code ?? e.message}`, { field: '--run-dir' })));
  });
  let reply: ControlReply;
  try {
    reply = JSON.parse(text) as ControlReply;
  } catch {
    throw new BerthError(`the agent at ${file} sent no valid reply`, { field: '--run-dir' });
  }
  if (!reply.ok) throw new BerthError(`agent: ${reply.error}`, { field: cmd });
  return reply.result;
}
