// Calling another CNI plugin (the reference's pkg/invoke + ipam.Exec*): find the binary in CNI_PATH,
// run it with the CNI environment and a config on stdin, and turn its output into a Result or a CniError.
// Delegations to berth-ipam run in-process (no exec, no second Node start-up) unless BERTH_IPAM_EXEC=1.
import fs = require('node:fs');
import path = require('node:path');
import { CniError, ErrDecodingFailure, ErrInternal, ErrInvalidEnvironment, ErrInvalidNetworkConfig } from './errors';
import type { PluginContext } from './skel';
import type { IPAMConfig, NetConf, Result } from './types';
import { parseResult } from './version';

/** The environment of the call: the process's, or the request's in the berth server (lib/util/io). */
function callerEnv(): NodeJS.ProcessEnv {
  return (require('../util/io') as typeof import('../util/io')).env();
}

/** The first executable `type` in `paths`. */
export function findInPath(type: string, paths: string[]): string {
  if (!type || type.includes('/') || type === '.' || type === '..') {
    throw new CniError(ErrInvalidNetworkConfig, `type: invalid plugin name "${type}"`);
  }
  for (const dir of paths) {
    const file = path.join(dir, type);
    try {
      fs.accessSync(file, fs.constants.X_OK);
      if (fs.statSync(file).isFile()) return file;
    } catch {
      // not in this directory
    }
  }
  throw new CniError(ErrInvalidEnvironment, `failed to find plugin "${type}" in path [${paths.join(' ')}]`);
}

/**
 * Runs plugin `type` found in `paths` with `env` (CNI_* variables; the rest of the caller's environment is inherited).
 * Resolves to the parsed stdout JSON (undefined when the plugin printed nothing); rejects with a CniError
 * built from the plugin's error JSON when it exits non-zero.
 */
export async function execPlugin(type: string, paths: string[], env: Record<string, string>, stdin: Buffer): Promise<unknown> {
  const file = findInPath(type, paths);
  const { spawn } = require('node:child_process') as typeof import('node:child_process');
  const { stdout, stderr, code } = await new Promise<{ stdout: string; stderr: string; code: number }>((resolve, reject) => {
    const child = spawn(file, [], { env: { ...callerEnv(), ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', reject);
    // a plugin that exits without reading all of stdin closes the pipe: not our error
    child.stdin.on('error', () => undefined);
    child.on('close', (c, signal) => resolve({
      stdout: Buffer.concat(out).toString('utf8'),
      stderr: Buffer.concat(err).toString('utf8'),
      code: c ?? (signal ? 128 : 1),
    }));
    child.stdin.end(stdin);
  });
  const text = stdout.trim();
  if (code !== 0) {
    let e: { code?: unknown; msg?: unknown; details?: unknown } | undefined;
    try {
      e = JSON.parse(text);
    } catch {
      e = undefined;
    }
    if (e && typeof e.code === 'number') {
      throw new CniError(e.code, `${type}: ${String(e.msg ?? '')}`, typeof e.details === 'string' ? e.details : undefined);
    }
    throw new CniError(ErrInternal, `${type} exited with status ${code}: ${(stderr || stdout).trim()}`);
  }
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new CniError(ErrDecodingFailure, `${type}: cannot decode its output: ${(err as Error).message}`);
  }
}

/** The CNI environment of `ctx` with the verb replaced. */
export function cniEnv(command: string, ctx: PluginContext): Record<string, string> {
  return {
    CNI_COMMAND: command,
    CNI_CONTAINERID: ctx.containerId,
    CNI_NETNS: ctx.netns,
    CNI_IFNAME: ctx.ifname,
    CNI_ARGS: Object.entries(ctx.args).map(([k, v]) => `${k}=${v}`).join(';'),
    CNI_PATH: ctx.path.join(':'),
  };
}

type IpamModule = typeof import('./ipam/plugin');

function inProcess(type: string): IpamModule | undefined {
  if (type !== 'berth-ipam' || callerEnv().BERTH_IPAM_EXEC === '1') return undefined;
  return require('./ipam/plugin') as IpamModule;
}

function stdinFor(ctx: PluginContext, netconf?: object): Buffer {
  return netconf === undefined ? ctx.stdin : Buffer.from(JSON.stringify(netconf));
}

/** The context the delegate sees: same environment, `netconf` as its config. */
function delegateCtx(command: PluginContext['command'], ctx: PluginContext, netconf?: object): { ctx: PluginContext; ipam: IPAMConfig } {
  const config = (netconf ?? ctx.config) as NetConf;
  if (!config.ipam || typeof config.ipam !== 'object') {
    throw new CniError(ErrInvalidNetworkConfig, 'ipam: missing IPAM configuration');
  }
  return { ctx: { ...ctx, command, config, stdin: stdinFor(ctx, netconf) }, ipam: config.ipam };
}

export async function delegateAdd(type: string, ctx: PluginContext, netconf?: object): Promise<Result> {
  const local = inProcess(type);
  if (local) {
    const d = delegateCtx('ADD', ctx, netconf);
    return local.ipamAdd(d.ctx, d.ipam);
  }
  const out = await execPlugin(type, ctx.path, cniEnv('ADD', ctx), stdinFor(ctx, netconf));
  if (out === undefined) throw new CniError(ErrDecodingFailure, `${type}: ADD printed no result`);
  return parseResult(out);
}

export async function delegateDel(type: string, ctx: PluginContext, netconf?: object): Promise<void> {
  const local = inProcess(type);
  if (local) {
    const d = delegateCtx('DEL', ctx, netconf);
    return local.ipamDel(d.ctx, d.ipam);
  }
  await execPlugin(type, ctx.path, cniEnv('DEL', ctx), stdinFor(ctx, netconf));
}

export async function delegateCheck(type: string, ctx: PluginContext, netconf?: object): Promise<void> {
  const local = inProcess(type);
  if (local) {
    const d = delegateCtx('CHECK', ctx, netconf);
    return local.ipamCheck(d.ctx, d.ipam);
  }
  await execPlugin(type, ctx.path, cniEnv('CHECK', ctx), stdinFor(ctx, netconf));
}

export async function delegateGC(type: string, ctx: PluginContext, netconf?: object): Promise<void> {
  const local = inProcess(type);
  if (local) {
    const d = delegateCtx('GC', ctx, netconf);
    const raw = (d.ctx.config['cni.dev/valid-attachments'] ?? []) as { containerID: string; ifname: string }[];
    return local.ipamGC({ ...d.ctx, validAttachments: raw }, d.ipam);
  }
  await execPlugin(type, ctx.path, cniEnv('GC', ctx), stdinFor(ctx, netconf));
}

/**
 * STATUS of a delegated (IPAM) plugin, as the reference's ipam.ExecStatus: its error, code included, is
 * the delegating plugin's answer (50 when the IPAM cannot take ADDs, 7 for its config, ...).
 */
export async function delegateStatus(type: string, ctx: PluginContext, netconf?: object): Promise<void> {
  const local = inProcess(type);
  if (local) {
    const d = delegateCtx('STATUS', ctx, netconf);
    return local.ipamStatus(d.ctx, d.ipam);
  }
  await execPlugin(type, ctx.path, { CNI_COMMAND: 'STATUS', CNI_PATH: ctx.path.join(':') }, stdinFor(ctx, netconf));
}
