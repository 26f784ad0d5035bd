// Hooks that run in the runtime's namespace: prestart, createRuntime, poststart, poststop.
// Each gets the container state JSON on stdin; a failure names the hook by its config field.
import { spawn } from 'node:child_process';
import { BerthError } from '../util/errors';
import type { Hook, State } from './spec/types';

export async function runHook(hook: Hook, state: State | string, field: string): Promise<void> {
  const input = typeof state === 'string' ? state : JSON.stringify(state);
  await new Promise<void>((resolve, reject) => {
    const args = hook.args && hook.args.length ? hook.args : [hook.path];
    const child = spawn(hook.path, args.slice(1), {
      argv0: args[0],
      env: Object.fromEntries((hook.env ?? []).map((e) => { const i = e.indexOf('='); return [e.slice(0, i), e.slice(i + 1)]; })),
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    let stderr = '';
    let timer: NodeJS.Timeout | undefined;
    if (hook.timeout) {
      timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new BerthError(`${hook.path}: timed out after ${hook.timeout}s`, { field }));
      }, hook.timeout * 1000);
    }
    child.stderr!.on('data', (d) => { if (stderr.length < 4096) stderr += d; });
    child.stdin!.on('error', () => undefined); // a hook may exit without reading its input
    child.stdin!.end(input);
    child.on('error', (e) => { clearTimeout(timer); reject(new BerthError(`${hook.path}: ${e.message}`, { field })); });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new BerthError(`${hook.path}: ${signal ? `killed by ${signal}` : `exit status ${code}`}${stderr ? `: ${stderr.trim()}` : ''}`, { field }));
    });
  });
}

export async function runHooks(hooks: Hook[] | undefined, state: State | string, kind: string): Promise<void> {
  for (const [i, hook] of (hooks ?? []).entries()) await runHook(hook, state, `hooks.${kind}[${i}]`);
}
