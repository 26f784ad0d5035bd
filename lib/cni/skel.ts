// The plugin skeleton every berth CNI plugin shares: reads the environment and stdin, validates them
// as CNI SPEC 1.1 requires, dispatches the verb, converts the result to the caller's cniVersion and
// prints either the result or the spec's error JSON. A plugin file holds only what makes it different.
// `import x = require()` for built-ins on a plugin's start-up path: tsc compiles `import * as x` into a
// copy of the module's properties (__importStar), paid on every start (see plugins/launch.ts)
import fs = require('node:fs');
import {
  CniError, ErrDecodingFailure, ErrIncompatibleVersion, ErrInvalidEnvironment, ErrInvalidNetworkConfig,
  ErrUnknownContainer, toCniError,
} from './errors';
import { canonicalConfig, GoShape } from './goconf';
import type { Attachment, NetConf, Result } from './types';
import { compareVersions, convertResult, CURRENT_VERSION, parseResult, SUPPORTED_VERSIONS } from './version';

export type Command = 'ADD' | 'DEL' | 'CHECK' | 'GC' | 'STATUS' | 'VERSION';

export interface PluginContext<C extends NetConf = NetConf> {
  command: Command;
  containerId: string;
  netns: string;
  ifname: string;
  /** CNI_ARGS "K=V;K2=V2" */
  args: Record<string, string>;
  /** CNI_PATH split on ':' */
  path: string[];
  /** stdin JSON; prevResult already converted to the 1.1.0 shape */
  config: C;
  /** raw stdin, for delegating to IPAM plugins */
  stdin: Buffer;
}

export interface Plugin<C extends NetConf = NetConf> {
  /** default: SUPPORTED_VERSIONS (0.3.0 to 1.1.0) */
  supportedVersions?: string[];
  /** the plugin's own config keys (its reference's struct), read as Go reads them; NetConf's are always */
  configShape?: GoShape;
  /** returns a 1.1.0-shaped result; the skel converts it to config.cniVersion */
  add(ctx: PluginContext<C>): Promise<Result>;
  del(ctx: PluginContext<C>): Promise<void>;
  check(ctx: PluginContext<C>): Promise<void>;
  gc?(ctx: PluginContext<C> & { validAttachments: Attachment[] }): Promise<void>;
  status?(ctx: PluginContext<C>): Promise<void>;
}

const COMMANDS: Command[] = ['ADD', 'DEL', 'CHECK', 'GC', 'STATUS', 'VERSION'];

// Which variables each verb needs (the reference skel's table; DEL tolerates a missing netns).
const REQUIRED: Record<string, Command[]> = {
  CNI_CONTAINERID: ['ADD', 'DEL', 'CHECK'],
  CNI_NETNS: ['ADD', 'CHECK'],
  CNI_IFNAME: ['ADD', 'DEL', 'CHECK'],
  CNI_PATH: ['ADD', 'DEL', 'CHECK', 'GC', 'STATUS'],
};

// Network names and container IDs: what the reference accepts (they end up in file names).
const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

export function parseCniArgs(s: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!s) return out;
  for (const pair of s.split(';')) {
    if (pair === '') continue;
    const i = pair.indexOf('=');
    if (i <= 0) throw new CniError(ErrInvalidEnvironment, `CNI_ARGS: invalid pair "${pair}" (want K=V)`);
    out[pair.slice(0, i)] = pair.slice(i + 1);
  }
  return out;
}

function validateIfname(name: string): void {
  const bad = (why: string): never => {
    throw new CniError(ErrInvalidEnvironment, `CNI_IFNAME: ${why}`, name);
  };
  if (name.length > 15) bad('interface name is longer than 15 characters');
  if (name === '.' || name === '..') bad('interface name is . or ..');
  if (/[/:\s]/.test(name)) bad('interface name contains / or : or whitespace');
}

function parseConfig(stdin: Buffer): NetConf {
  let conf: unknown;
  try {
    conf = JSON.parse(stdin.toString('utf8'));
  } catch (e) {
    throw new CniError(ErrDecodingFailure, `error decoding network config from stdin: ${(e as Error).message}`);
  }
  if (typeof conf !== 'object' || conf === null || Array.isArray(conf)) {
    throw new CniError(ErrDecodingFailure, 'error decoding network config from stdin: expected a JSON object');
  }
  return conf as NetConf;
}

interface Outcome {
  result?: object;
  /** what the caller understood, for the error JSON */
  version: string;
}

async function run<C extends NetConf>(plugin: Plugin<C>, env: NodeJS.ProcessEnv, stdin: Buffer, o: Outcome): Promise<void> {
  const command = env.CNI_COMMAND ?? '';
  if (!command) throw new CniError(ErrInvalidEnvironment, 'required environment variable CNI_COMMAND is missing');
  if (!COMMANDS.includes(command as Command)) {
    throw new CniError(ErrInvalidEnvironment, `CNI_COMMAND: unknown command "${command}"`);
  }
  const cmd = command as Command;
  const missing = Object.keys(REQUIRED).filter((k) => REQUIRED[k].includes(cmd) && !env[k]);
  if (missing.length) {
    throw new CniError(ErrInvalidEnvironment, `required environment variables missing: ${missing.join(', ')}`);
  }
  const supported = plugin.supportedVersions ?? SUPPORTED_VERSIONS;
  if (cmd === 'VERSION') {
    o.result = { cniVersion: CURRENT_VERSION, supportedVersions: supported };
    return;
  }

  const config = canonicalConfig(parseConfig(stdin), plugin.configShape);
  const version = config.cniVersion;
  if (typeof version === 'string' && supported.includes(version)) o.version = version;
  if (typeof version !== 'string' || !supported.includes(version)) {
    throw new CniError(ErrIncompatibleVersion, 'incompatible CNI versions',
      `config is "${String(version ?? '')}", plugin supports [${supported.join(' ')}]`);
  }
  if (typeof config.name !== 'string' || config.name === '') {
    throw new CniError(ErrInvalidNetworkConfig, 'name: missing network name');
  }
  if (!NAME_RE.test(config.name)) {
    throw new CniError(ErrInvalidNetworkConfig, 'name: invalid characters in network name', config.name);
  }
  if (typeof config.type !== 'string' || config.type === '') {
    throw new CniError(ErrInvalidNetworkConfig, 'type: missing plugin type');
  }
  const minimum = cmd === 'CHECK' ? '0.4.0' : cmd === 'GC' || cmd === 'STATUS' ? '1.1.0' : undefined;
  if (minimum && compareVersions(version, minimum) < 0) {
    throw new CniError(ErrIncompatibleVersion, `config version "${version}" does not allow ${cmd} (needs ${minimum} or later)`);
  }

  const containerId = env.CNI_CONTAINERID ?? '';
  const ifname = env.CNI_IFNAME ?? '';
  if (cmd === 'ADD' || cmd === 'DEL' || cmd === 'CHECK') {
    if (!NAME_RE.test(containerId)) {
      throw new CniError(ErrUnknownContainer, 'CNI_CONTAINERID: invalid characters in container ID', containerId);
    }
    validateIfname(ifname);
  }
  if (config.prevResult !== undefined && config.prevResult !== null) {
    try {
      config.prevResult = parseResult(config.prevResult);
    } catch (e) {
      // DEL removes what it finds and needs no prevResult: a garbled one must not keep it from that
      if (cmd !== 'DEL') throw e;
      delete config.prevResult;
    }
  }

  const ctx: PluginContext<C> = {
    command: cmd,
    containerId,
    netns: env.CNI_NETNS ?? '',
    ifname,
    args: parseCniArgs(env.CNI_ARGS),
    path: (env.CNI_PATH ?? '').split(':').filter((p) => p !== ''),
    config: config as C,
    stdin,
  };
  switch (cmd) {
    case 'ADD': {
      const result = await plugin.add(ctx);
      o.result = convertResult(result, version);
      return;
    }
    case 'DEL':
      return plugin.del(ctx);
    case 'CHECK':
      return plugin.check(ctx);
    case 'GC': {
      // Plugins without GC have nothing to collect: success.
      if (!plugin.gc) return;
      const raw = config['cni.dev/valid-attachments'] ?? [];
      if (!Array.isArray(raw)) {
        throw new CniError(ErrInvalidNetworkConfig, 'cni.dev/valid-attachments: expected an array');
      }
      const validAttachments: Attachment[] = raw.map((a: { containerID?: unknown; ifname?: unknown }, i) => {
        if (typeof a?.containerID !== 'string' || typeof a?.ifname !== 'string') {
          throw new CniError(ErrInvalidNetworkConfig, `cni.dev/valid-attachments[${i}]: needs containerID and ifname strings`);
        }
        return { containerID: a.containerID, ifname: a.ifname };
      });
      return plugin.gc({ ...ctx, validAttachments });
    }
    case 'STATUS':
      return plugin.status?.(ctx);
  }
}

/** The plugin logic without touching the process: for unit tests and in-process use. */
export async function invokePlugin<C extends NetConf>(
  plugin: Plugin<C>, env: NodeJS.ProcessEnv, stdin: Buffer,
): Promise<{ stdout: string; exitCode: number }> {
  const o: Outcome = { version: CURRENT_VERSION };
  try {
    await run(plugin, env, stdin, o);
    return { stdout: o.result ? JSON.stringify(o.result) + '\n' : '', exitCode: 0 };
  } catch (e) {
    return { stdout: JSON.stringify(toCniError(e).toJSON(o.version)) + '\n', exitCode: 1 };
  }
}

// stdin and stdout go through fd 0 and 1 directly: touching process.stdin/stdout builds stream objects,
// whose set-up every plugin call would pay.
function readStdin(): Buffer {
  // a terminal (someone trying the plugin by hand) is no config; reading it would wait for ^D
  if (isTerminal(0)) return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  const buf = Buffer.alloc(65536);
  for (;;) {
    let n: number;
    try {
      n = fs.readSync(0, buf, 0, buf.length, null);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      // a non-blocking stdin (inherited from some callers): wait a little and retry
      if (code === 'EAGAIN') { Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2); continue; }
      // a closed stdin is an empty config, which the parser reports
      if (code === 'EOF' || code === 'EBADF') break;
      throw e;
    }
    if (n === 0) break;
    chunks.push(Buffer.from(buf.subarray(0, n)));
  }
  return Buffer.concat(chunks);
}

export function isTerminal(fd: number): boolean {
  return fs.fstatSync(fd).isCharacterDevice() && (require('node:tty') as typeof import('node:tty')).isatty(fd);
}

/** Writes all of `text` to `fd`, waiting out a full non-blocking pipe. */
export function writeFd(fd: number, text: string): void {
  const buf = Buffer.from(text);
  let off = 0;
  while (off < buf.length) {
    try {
      off += fs.writeSync(fd, buf, off);
    } catch (e) {
      // a non-blocking pipe that is full: wait for the reader
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2);
    }
  }
}

/** Where one plugin call gets its input and puts its output: the process's own, or a server request's. */
export interface PluginIo {
  env: NodeJS.ProcessEnv;
  readStdin(): Buffer | Promise<Buffer>;
  stdout(text: string): void;
  stderr(text: string): void;
}

/**
 * One plugin call: env + stdin in, result or error JSON out; resolves to the exit status. The process
 * entry point (runPlugin) and the berth server (lib/server/cni.ts) both run this, so their bytes agree.
 */
export async function callPlugin<C extends NetConf>(plugin: Plugin<C>, about: string | undefined, io: PluginIo): Promise<number> {
  if (!io.env.CNI_COMMAND && about) {
    // run by hand: say what this is instead of an error
    io.stderr(`${about}\nCNI protocol versions supported: ${(plugin.supportedVersions ?? SUPPORTED_VERSIONS).join(', ')}\n`);
    return 0;
  }
  const stdin = io.env.CNI_COMMAND === 'VERSION' ? Buffer.alloc(0) : await io.readStdin();
  const { stdout, exitCode } = await invokePlugin(plugin, io.env, stdin);
  io.stdout(stdout);
  return exitCode;
}

/** The whole process entry point of a plugin: env + stdin in, result or error JSON out, exit code set. */
export function runPlugin<C extends NetConf>(plugin: Plugin<C>, about?: string): void {
  const processIo: PluginIo = { env: process.env, readStdin, stdout: (t) => writeFd(1, t), stderr: (t) => writeFd(2, t) };
  callPlugin(plugin, about, processIo).then((exitCode) => {
    // The answer is out (written synchronously) and nothing is left to do: exit now rather than let Node
    // tear down its heap and environment, work a short-lived plugin need not wait for.
    process.exit(exitCode);
  }, (e: unknown) => {
    process.stderr.write(`${String(e)}\n`);
    process.exitCode = 1;
  });
}
