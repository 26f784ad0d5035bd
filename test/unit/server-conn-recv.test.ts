// lib/server/conn-recv.ts: the server waits for a front-end's frame (LAUNCHED, which carries the sync
// socket by SCM_RIGHTS) on a connection libuv owns, by watching a duplicate of its descriptor. The frame
// arrives late (after the wait began) with its descriptor intact; libuv can read the same connection
// afterwards (STATUS comes that way); end of stream and silence are told apart.
import t, { type Test } from 'tap';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { native } from '../../lib/sys/native';
import { recvWhenReadable, RecvTimeout } from '../../lib/server/conn-recv';
import { socketFd } from '../../lib/util/unix-socket';

/** A connected pair: the server's end accepted paused (as berth serve does), and the client's. */
async function connection(t: Test): Promise<{ conn: net.Socket; client: net.Socket }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'conn-recv-'));
  const sock = path.join(dir, 's.sock');
  const server = net.createServer({ pauseOnConnect: true, allowHalfOpen: true });
  const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
  await new Promise<void>((resolve) => server.listen(sock, resolve));
  const client = net.connect(sock);
  await new Promise<void>((resolve) => client.once('connect', resolve));
  const conn = await accepted;
  t.teardown(() => {
    conn.destroy();
    client.destroy();
    server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return { conn, client };
}

t.test('a frame sent after the wait began arrives with its descriptor; libuv reads on after it', async (t) => {
  const { conn, client } = await connection(t);
  const n = native();
  const [a, b] = n.socketpair();
  const waiting = recvWhenReadable(socketFd(conn), 16, 10_000);
  // sent only once the wait is armed: nothing to pick up at the first recvmsg
  setTimeout(() => n.unixSend(socketFd(client), Buffer.from('LAUNCHED'), [b]), 50);
  const got = await waiting;
  t.equal(got.data.toString(), 'LAUNCHED');
  t.equal(got.fds.length, 1, 'the descriptor rode along');
  fs.writeSync(a, 'through the passed socket');
  const buf = Buffer.alloc(64);
  const len = fs.readSync(got.fds[0], buf);
  t.equal(buf.subarray(0, len).toString(), 'through the passed socket', 'it is the sent socket');
  for (const fd of [a, b, ...got.fds]) fs.closeSync(fd);

  const status = new Promise<string>((resolve) => conn.once('data', (d) => resolve(d.toString())));
  conn.resume();
  client.write('STATUS');
  t.equal(await status, 'STATUS', 'the connection still reads through libuv');
});

t.test('end of stream is empty data; silence is a RecvTimeout', async (t) => {
  const first = await connection(t);
  const quiet = recvWhenReadable(socketFd(first.conn), 16, 100);
  await t.rejects(quiet, RecvTimeout, 'nothing sent');
  const ended = recvWhenReadable(socketFd(first.conn), 16, 10_000);
  first.client.end();
  const got = await ended;
  t.equal(got.data.length, 0, 'the client went away');
  t.same(got.fds, []);
});

t.test('bytes already there are read without waiting', async (t) => {
  const { conn, client } = await connection(t);
  // a unix stream socket queues the bytes at the peer by the time the write completes
  await new Promise<void>((resolve, reject) => client.write('ready', (e) => (e ? reject(e) : resolve())));
  const got = await recvWhenReadable(socketFd(conn), 16, 0); // no time allowed: only the first recvmsg can find them
  t.equal(got.data.toString(), 'ready');
});
