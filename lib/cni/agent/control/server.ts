// The agent's control socket (<run dir>/agent.sock), as birdc/vtysh talk to their daemons: one JSON request
// line, one JSON reply line. Root only, twice over: the socket is created mode 0600 (connect needs write
// permission), and each connection's SO_PEERCRED must be uid 0, so a socket made reachable by a chmod or a
// bind mount still answers no one else (as the berth server's serve.sock does).
import * as fs from 'node:fs';
import * as net from 'node:net';
import { peerCred } from '../../../util/unix-socket';

export const CONTROL_SOCKET = 'agent.sock';

export type ControlArgs = Record<string, string | number | boolean | undefined>;
export type ControlHandler = (args: ControlArgs) => unknown;
export interface ControlRequest { cmd: string; args?: ControlArgs }
export type ControlReply = { ok: true; result: unknown } | { ok: false; error: string };

/** A request longer than this is refused: requests are a command and a few filters. */
const MAX_REQUEST = 64 * 1024;

export class ControlServer {
  private server?: net.Server;

  constructor(private readonly file: string, private readonly handlers: () => Record<string, ControlHandler>) {}

  async listen(): Promise<void> {
    fs.rmSync(this.file, { force: true }); // a socket left by a killed agent
    const srv = net.createServer((c) => this.serve(c));
    // mode 0600 from the start: no moment where another user could connect
    const old = process.umask(0o177);
    try {
      await new Promise<void>((resolve, reject) => {
        srv.once('error', reject);
        srv.listen(this.file, () => { srv.off('error', reject); resolve(); });
      });
    } finally {
      process.umask(old);
    }
    this.server = srv;
  }

  private serve(c: net.Socket): void {
    let buf = '';
    c.setEncoding('utf8');
    c.on('error', () => undefined);
    const refusal = this.refusal(c);
    c.on('data', (d: string) => {
      buf += d;
      if (buf.length > MAX_REQUEST) { c.end(JSON.stringify({ ok: false, error: 'request too long' }) + '\n'); return; }
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      // answered after the request is read: closing on unread bytes would reset the connection
      c.end(JSON.stringify(refusal ?? this.answer(buf.slice(0, nl))) + '\n');
    });
  }

  /** The reply for a peer that is not root, or undefined for root. */
  private refusal(c: net.Socket): ControlReply | undefined {
    let uid: number;
    try {
      uid = peerCred(c).uid;
    } catch (e) {
      return { ok: false, error: `refused: cannot read the peer's credentials: ${(e as Error).message}` };
    }
    return uid === 0 ? undefined : { ok: false, error: `refused: uid ${uid} is not root` };
  }

  private answer(line: string): ControlReply {
    let req: ControlRequest;
    try {
      req = JSON.parse(line) as ControlRequest;
    } catch {
      return { ok: false, error: 'request is not JSON' };
    }
    const h = this.handlers()[req.cmd];
    if (!h) return { ok: false, error: `unknown command "${String(req.cmd)}"` };
    try {
      return { ok: true, result: h(req.args ?? {}) };
    } catch (e) {
      return { ok: false, error: (e as Error).message };
    }
  }

  async close(): Promise<void> {
    const srv = this.server;
    this.server = undefined;
    if (srv) await new Promise<void>((resolve) => srv.close(() => resolve()));
    fs.rmSync(this.file, { force: true });
  }
}
