// --console-socket: one SCM_RIGHTS message with the pty master; a client talks to a shell through it.
import t from 'tap';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import * as tty from 'node:tty';
import { native } from '../../lib/sys/native';
import { berth, bundle } from '../helpers/run';
import { uniqueId } from '../helpers/bundle';

t.test('the console socket receives the pty master and a shell answers through it', async (t) => {
  const b = bundle(['/bin/sh'], (s) => { s.process!.terminal = true; s.process!.consoleSize = { height: 40, width: 120 }; });
  const id = uniqueId('tty');
  const g = ['--root', b.root];
  const sock = path.join(b.dir, 'console.sock');
  // pauseOnConnect: node must not read the message itself, or the descriptor it carries is lost
  const server = net.createServer({ pauseOnConnect: true });
  await new Promise<void>((r) => server.listen(sock, r));
  t.teardown(async () => { server.close(); await berth([...g, 'delete', '--force', id]); b.cleanup(); });
  const received = new Promise<{ fd: number; fdCount: number; payload: string }>((resolve) => {
    server.on('connection', (conn) => {
      const fd = (conn as unknown as { _handle: { fd: number } })._handle.fd;
      conn.pause();
      // node made the socket non-blocking: poll until the one message is there
      const poll = () => {
        try {
          resolve(native().recvFd(fd));
        } catch (e) {
          if ((e as { code?: string }).code !== 'EAGAIN') throw e;
          setTimeout(poll, 10);
        }
      };
      poll();
    });
  });
  const created = berth([...g, 'create', '--bundle', b.dir, '--console-socket', sock, id]);
  const msg = await received;
  const c = await created;
  t.equal(c.code, 0, c.stderr);
  t.equal(msg.fdCount, 1, 'exactly one descriptor');
  t.match(msg.payload, /^\/dev\/pts\/\d+$/, 'payload names the pty');
  t.ok(fs.fstatSync(msg.fd).isCharacterDevice(), 'a character device: the pty master');
  t.equal((await berth([...g, 'start', id])).code, 0);
  const master = new tty.ReadStream(msg.fd);
  let out = '';
  master.on('data', (d) => { out += d.toString(); });
  master.on('error', () => undefined); // EIO when the shell exits
  fs.writeSync(msg.fd, 'echo MARK$((40+2)); stty size; tty; exit\n');
  for (let i = 0; i < 200 && !/exit/.test(out.split('MARK42').slice(1).join('')); i++) await new Promise((r) => setTimeout(r, 20));
  for (let i = 0; i < 100 && !/\/dev\/pts\/\d+\s*$/m.test(out.split('MARK42')[1] ?? ''); i++) await new Promise((r) => setTimeout(r, 20));
  master.destroy();
  t.match(out, /MARK42/, 'the shell ran our command');
  t.match(out, /40 120/, 'the console size was applied');
  t.match(out, /\/dev\/pts\/\d+/, 'stdin is the pty');
});
