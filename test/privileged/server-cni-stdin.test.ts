// A plugin's stdin in the berth server (issue 13, lib/server/cni.ts): each shape of descriptor a runtime may
// hand a plugin, through the real front-end (dist/bin) to a server, against the cold plugin (bin/, no server)
// on a fresh stdin of the same shape: the same stdout bytes and exit status. The shapes are the fast paths'
// cases: a FIFO whose writer is done, one still being written (blocking and non-blocking), the write end of a
// FIFO, a unix socket with descriptors riding along, a terminal. Verbs: VERSION (which reads no stdin) and
// berth-bridge ADD + DEL into a namespace of the test's. The server and the clients run in the test's "node"
// namespace. A warm call that went cold would fail: its BERTH_HOME names no installation (exit 127).
import t, { type Test } from 'tap';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createNetns } from '../helpers/netns';
import { startServer, tempRoot, type ServerProcess } from '../helpers/serve-process';
import { COLD_BIN, FRONTEND_BIN } from '../helpers/frontend';
import { native } from '../../lib/sys/native';

const PYTHON = execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).trim();
// argv[1] 'nonblock': the rest run with fd 0 made O_NONBLOCK (a description libuv's spawn would make
// blocking again); 'tty' INPUT: the rest run on a new terminal whose input holds INPUT, a newline and ^D
const WRAP = `
import os, pty, subprocess, sys
if sys.argv[1] == 'nonblock':
    os.set_blocking(0, False)
    os.execvp(sys.argv[2], sys.argv[2:])
m, s = pty.openpty()
os.write(m, sys.argv[2].encode() + b'\\n\\x04')
sys.exit(subprocess.run(sys.argv[3:], stdin=s).returncode)
`;
const O_NONBLOCK = fs.constants.O_NONBLOCK;

interface Outcome { status: number; stdout: string; stderr: string }

/** What the test saw while a call ran (the delayed shapes fill it in). */
interface Seen { exitedBeforeRest?: boolean; readerFds?: number; blockedReads?: number; nonBlocking?: boolean; gapMs?: number }

/** One fresh stdin for one call. */
interface Stdin {
  fd: number | 'ignore';
  /** argv prefix the plugin runs under (the python wrapper) */
  wrap?: string[];
  /** what the test writes once the call runs; `holder` is the pid that will read (server or cold plugin) */
  feed?(child: ChildProcess, holder: number, seen: Seen): Promise<void>;
  /** checks after the call */
  after?(t: Test, what: string, server: number | undefined): void;
  /** the test's other descriptors (`fd` itself is closed once the plugin has its copy) */
  close(): void;
}

interface Shape { name: string; readsConfig: boolean; make(conf: string): Stdin }

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Descriptors of pid whose link is `target` (a path, or socket:[ino]). */
function fdsOn(pid: number, target: string): number {
  let n = 0;
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    try { if (fs.readlinkSync(`/proc/${pid}/fd/${fd}`) === target) n++; } catch { /* closed meanwhile */ }
  }
  return n;
}

/** Threads of pid blocked in read(2) on a descriptor whose link is `target` (/proc/PID/task/TID/syscall). */
function threadsReading(pid: number, target: string): number {
  let n = 0;
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    let call: string[];
    try { call = fs.readFileSync(`/proc/${pid}/task/${tid}/syscall`, 'latin1').split(' '); } catch { continue; }
    if (call[0] !== '0') continue; // __NR_read on x86_64
    try { if (fs.readlinkSync(`/proc/${pid}/fd/${Number(call[1])}`) === target) n++; } catch { /* closed meanwhile */ }
  }
  return n;
}

/**
 * Until the process that will read `target` holds it (the server, once the request is in; the cold plugin,
 * once node runs it, past the wrappers exec'ing it) or the call is over.
 */
async function reader(child: ChildProcess, holder: number, target: string): Promise<void> {
  const running = (): boolean => child.exitCode === null && child.signalCode === null;
  const isNode = (): boolean => { try { return path.basename(fs.readlinkSync(`/proc/${holder}/exe`)).startsWith('node'); } catch { return false; } };
  await until(`the reader to hold ${target}`, () => !running() || (fdsOn(holder, target) > 0 && isNode()));
}

async function until(what: string, ok: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

/** A named FIFO's descriptors: the blocking read end (for the plugin), its write end (ours), a spare reader. */
let fifos = 0;
function fifo(dir: string): { file: string; r: number; w: number } {
  const file = path.join(dir, `fifo-${fifos++}`);
  execFileSync('mkfifo', [file]);
  // a reader first, so the blocking opens below return at once
  const spare = fs.openSync(file, fs.constants.O_RDONLY | O_NONBLOCK);
  const w = fs.openSync(file, fs.constants.O_WRONLY);
  const r = fs.openSync(file, fs.constants.O_RDONLY);
  fs.closeSync(spare);
  return { file, r, w };
}

/** The half of conf written first, the rest after a delay (while the call waits), then the writer closes. */
function splitFifo(dir: string, conf: string, nonBlocking: boolean): Stdin {
  const f = fifo(dir);
  const half = Math.floor(conf.length / 2);
  fs.writeSync(f.w, conf.slice(0, half));
  return {
    fd: f.r,
    wrap: nonBlocking ? [PYTHON, '-c', WRAP, 'nonblock'] : undefined,
    async feed(child, holder, seen) {
      const exited = (): boolean => child.exitCode !== null || child.signalCode !== null;
      // a real gap before the rest, from when the reader holds the FIFO
      await reader(child, holder, f.file);
      const start = Date.now();
      while (Date.now() - start < 100) await sleep(100 - (Date.now() - start));
      seen.gapMs = Date.now() - start;
      seen.exitedBeforeRest = exited();
      if (!seen.exitedBeforeRest) {
        seen.readerFds = fdsOn(holder, f.file);
        seen.blockedReads = threadsReading(holder, f.file);
        seen.nonBlocking = (parseInt(/^flags:\s*([0-7]+)$/m.exec(fs.readFileSync(`/proc/${child.pid}/fdinfo/0`, 'latin1'))![1], 8) & O_NONBLOCK) !== 0;
      }
      try { fs.writeSync(f.w, conf.slice(half)); } catch { /* VERSION: nobody reads */ }
      fs.closeSync(f.w);
    },
    after: (t, what, server) => noneHeld(t, what, server, f.file),
    close() { /* the writer closed in feed */ },
  };
}

function noneHeld(t: Test, what: string, server: number | undefined, file: string): void {
  if (server !== undefined) t.equal(fdsOn(server, file), 0, `${what}: the server holds nothing of the FIFO`);
}

const SHAPES = (dir: string): Shape[] => [
  {
    name: 'a FIFO whose writer has closed',
    readsConfig: true,
    make(conf) {
      const f = fifo(dir);
      fs.writeSync(f.w, conf);
      fs.closeSync(f.w);
      return {
        fd: f.r,
        after: (t, what, server) => noneHeld(t, what, server, f.file),
        close() { /* nothing else */ },
      };
    },
  },
  { name: 'a FIFO still being written', readsConfig: true, make: (conf) => splitFifo(dir, conf, false) },
  { name: 'a non-blocking FIFO still being written', readsConfig: true, make: (conf) => splitFifo(dir, conf, true) },
  {
    // a whole config waits in the pipe: a reader that opened it again through /proc would take it
    name: 'the write end of a FIFO',
    readsConfig: false,
    make(conf) {
      const f = fifo(dir);
      fs.writeSync(f.w, conf);
      return {
        fd: f.w,
        after(t, what) {
          const buf = Buffer.alloc(65536);
          const n = fs.readSync(f.r, buf);
          t.equal(buf.subarray(0, n).toString(), conf, `${what}: nobody read the pipe`);
        },
        close() { fs.closeSync(f.r); },
      };
    },
  },
  {
    // two messages, a descriptor on each (a socket end whose peer we keep), the second after a gap
    name: 'a unix socket with descriptors riding along',
    readsConfig: true,
    make(conf) {
      const n = native();
      const [ours, theirs] = n.socketpair();
      const riders = [n.socketpair(), n.socketpair()];
      const inodes = riders.map(([, passed]) => `socket:[${fs.fstatSync(passed).ino}]`);
      const stdinLink = `socket:[${fs.fstatSync(theirs).ino}]`;
      const half = Math.floor(conf.length / 2);
      n.unixSend(ours, Buffer.from(conf.slice(0, half)), [riders[0][1]]);
      fs.closeSync(riders[0][1]);
      return {
        fd: theirs,
        async feed(child, holder, seen) {
          const exited = (): boolean => child.exitCode !== null || child.signalCode !== null;
          await reader(child, holder, stdinLink);
          await sleep(100);
          seen.exitedBeforeRest = exited();
          try { n.unixSend(ours, Buffer.from(conf.slice(half)), [riders[1][1]]); } catch { /* VERSION: nobody reads */ }
          fs.closeSync(riders[1][1]);
          fs.closeSync(ours);
        },
        after(t, what, server) {
          for (const [i, [kept]] of riders.entries()) {
            // every copy of the passed end closed: its peer reads end of file (null would be "nothing yet")
            t.same(n.unixRecv(kept, 16)?.data.length, 0, `${what}: descriptor ${i + 1} was closed`);
            if (server !== undefined) t.equal(fdsOn(server, inodes[i]), 0, `${what}: the server does not hold descriptor ${i + 1}`);
          }
          if (server !== undefined) t.equal(fdsOn(server, stdinLink), 0, `${what}: nor the stdin socket`);
        },
        close() { for (const [kept] of riders) fs.closeSync(kept); },
      };
    },
  },
  {
    // the terminal's input holds a whole config and ^D: a plugin that read it would find one
    name: 'a terminal',
    readsConfig: false,
    make(conf) {
      return { fd: 'ignore', wrap: [PYTHON, '-c', WRAP, 'tty', conf], close() {} };
    },
  },
];

// the kernel gives every new veth and bridge a random MAC: the one field two ADDs may not share
const noMacs = (s: string): string => s.replace(/"mac":"[0-9a-f:]+"/g, '"mac":"<random>"');

// one server, one node and one container namespace for all the shapes (each shape undoes what it did)
{
  const node = createNetns('wsinode'), ctr = createNetns('wsictr');
  const root = tempRoot('cni-stdin');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'server-cni-stdin-'));
  const dataDir = path.join(root, 'ipam');
  let s: ServerProcess | undefined;
  let serverPid = 0;
  t.teardown(async () => {
    await s?.stop();
    ctr.remove();
    node.remove();
    fs.rmSync(root, { recursive: true, force: true });
    fs.rmSync(dir, { recursive: true, force: true });
  });
  t.before(async () => {
    s = await startServer(root, { netns: node.path });
    serverPid = Number(fs.readFileSync(path.join(root, 'serve.pid'), 'utf8'));
    if (!/\0serve\0/.test(fs.readFileSync(`/proc/${serverPid}/cmdline`, 'utf8'))) throw new Error(`serve.pid names no server: ${serverPid}`);
  });
  const conf = {
    cniVersion: '1.0.0', name: 'wsinet', type: 'berth-bridge', bridge: 'br-wsi', isGateway: true,
    ipam: { type: 'berth-ipam', ranges: [[{ subnet: '10.125.0.0/24' }]], dataDir },
  };
  const confText = JSON.stringify(conf);

  async function call(t: Test, how: 'warm' | 'cold', command: string, stdin: Stdin, seen: Seen): Promise<Outcome> {
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '', CNI_COMMAND: command, CNI_CONTAINERID: 'c1', CNI_NETNS: ctr.path, CNI_IFNAME: 'eth0',
      CNI_PATH: COLD_BIN, CNI_ARGS: '', BERTH_NO_AUTOSTART: '1',
      ...(how === 'warm' ? { BERTH_ROOT: root, BERTH_HOME: path.join(dir, 'no-installation') } : { BERTH_NO_SERVER: '1' }),
    };
    const argv = [...(stdin.wrap ?? []), 'nsenter', `--net=${node.path}`, path.join(how === 'warm' ? FRONTEND_BIN : COLD_BIN, 'berth-bridge')];
    try {
      const child = spawn(argv[0], argv.slice(1), { stdio: [stdin.fd, 'pipe', 'pipe'], env });
      // the plugin has its copy: ours would keep a pipe's writer or a socket's peer alive
      if (typeof stdin.fd === 'number') fs.closeSync(stdin.fd);
      let stdout = '', stderr = '';
      child.stdout!.on('data', (d) => { stdout += d; });
      child.stderr!.on('data', (d) => { stderr += d; });
      const closed = new Promise<number>((resolve) => child.on('close', (code, sig) => resolve(code ?? 128 + (sig ? os.constants.signals[sig] : 0))));
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await stdin.feed?.(child, how === 'warm' ? serverPid : child.pid!, seen);
      const status = await closed;
      clearTimeout(timer);
      stdin.after?.(t, `${how} ${command}`, how === 'warm' ? serverPid : undefined);
      return { status, stdout, stderr };
    } finally {
      stdin.close();
    }
  }

  /** The same verb cold and warm, each on a fresh stdin of the shape. */
  async function both(t: Test, shape: Shape, command: string): Promise<[Outcome, Outcome, Seen]> {
    const seenWarm: Seen = {};
    const k = await call(t, 'cold', command, shape.make(confText), {});
    const w = await call(t, 'warm', command, shape.make(confText), seenWarm);
    return [k, w, seenWarm];
  }

  function reset(): void {
    fs.rmSync(dataDir, { recursive: true, force: true });
    node.run('ip', ['link', 'del', 'br-wsi']);
  }

  for (const shape of SHAPES(dir)) {
    t.test(`${shape.name}: the server gives the cold plugin's bytes`, async (t) => {
      const [vk, vw, seen] = await both(t, shape, 'VERSION');
      t.equal(vk.status, 0, `cold VERSION: ${vk.stderr}`);
      t.equal(vw.status, vk.status, `VERSION: status (${vw.stderr})`);
      t.equal(vw.stdout, vk.stdout, 'VERSION: stdout');
      t.match(vw.stdout, /"supportedVersions"/);
      // VERSION reads no stdin: it does not wait for a writer still at it (said of the server only: the cold
      // plugin's start-up may outlast the gap)
      if (seen.exitedBeforeRest !== undefined) t.equal(seen.exitedBeforeRest, true, 'warm VERSION answered before the rest was written');

      if (!shape.readsConfig) {
        // no config to read: the parser's error, the same JSON both ways
        const [k, w] = await both(t, shape, 'ADD');
        t.equal(k.status, 1, `cold ADD fails: ${k.stdout}${k.stderr}`);
        t.match(k.stdout, /error decoding network config from stdin/, 'cold: an empty config');
        t.equal(w.status, k.status, `ADD: status (${w.stderr})`);
        t.equal(w.stdout, k.stdout, 'ADD: stdout');
        t.equal(ctr.run('ip', ['link', 'show', 'eth0']).status !== 0, true, 'no interface was made');
        return;
      }

      // ADD and DEL cold, everything undone, then warm from the same starting point
      reset();
      const seenCold: Seen = {};
      const addCold = await call(t, 'cold', 'ADD', shape.make(confText), seenCold);
      t.equal(addCold.status, 0, `cold ADD: ${addCold.stdout}${addCold.stderr}`);
      const delCold = await call(t, 'cold', 'DEL', shape.make(confText), {});
      t.equal(delCold.status, 0, `cold DEL: ${delCold.stdout}${delCold.stderr}`);
      reset();
      const seenWarm: Seen = {};
      const addWarm = await call(t, 'warm', 'ADD', shape.make(confText), seenWarm);
      t.equal(addWarm.status, addCold.status, `ADD: status (${addWarm.stdout}${addWarm.stderr})`);
      t.equal(noMacs(addWarm.stdout), noMacs(addCold.stdout), 'ADD: stdout (MACs aside)');
      t.match(JSON.parse(addWarm.stdout), { cniVersion: '1.0.0', ips: [{ address: '10.125.0.2/24' }] }, 'ADD: the whole config was read');
      t.match(ctr.exec('ip', ['-4', 'addr', 'show', 'eth0']), /10\.125\.0\.2\/24/, 'the address is in the container');
      const delWarm = await call(t, 'warm', 'DEL', shape.make(confText), {});
      t.equal(delWarm.status, delCold.status, `DEL: status (${delWarm.stdout}${delWarm.stderr})`);
      t.equal(delWarm.stdout, delCold.stdout, 'DEL: stdout');
      t.equal(ctr.run('ip', ['link', 'show', 'eth0']).status !== 0, true, 'DEL removed the interface');
      reset();

      for (const [how, seen] of [['cold', seenCold], ['warm', seenWarm]] as const) {
        if (seen.exitedBeforeRest === undefined) continue;
        // the call was still waiting when the rest came, after a real gap
        t.equal(seen.exitedBeforeRest, false, `${how} ADD waited for the rest of the config`);
        if (seen.gapMs !== undefined) t.ok(seen.gapMs >= 100, `${how}: ${seen.gapMs} ms between the halves`);
        if (seen.nonBlocking !== undefined) t.equal(seen.nonBlocking, shape.name.includes('non-blocking'), `${how}: the plugin's stdin is ${shape.name.includes('non-blocking') ? '' : 'not '}O_NONBLOCK`);
        // waiting on a poll of its own non-blocking descriptor beside the request's, with no thread in read(2):
        // a threadpool read would hold one of libuv's four threads for as long as the writer takes
        if (how === 'warm' && seen.readerFds !== undefined) t.equal(seen.readerFds, 2, 'warm: the server held the request\'s descriptor of the FIFO and its own while waiting');
        if (how === 'warm' && seen.blockedReads !== undefined) t.equal(seen.blockedReads, 0, 'warm: no server thread blocked in read(2) on the FIFO');
      }
    });
  }
}
