// Typed errors that name what failed: a config field, a step, or both. The CLI prints `message` as one line.

export class BerthError extends Error {
  /** the config field or argument at fault, e.g. "linux.namespaces[2].type" */
  readonly field?: string;
  constructor(message: string, options: { field?: string; cause?: unknown } = {}) {
    super(options.field ? `${options.field}: ${message}` : message, { cause: options.cause });
    this.name = 'BerthError';
    this.field = options.field;
  }
}

/** A config.json (or other input) that is wrong. */
export class ConfigError extends BerthError {
  constructor(field: string, message: string) {
    super(message, { field });
    this.name = 'ConfigError';
  }
}

/** A kernel operation that failed: names the step and errno. */
export class SyscallError extends BerthError {
  readonly code: string;
  constructor(step: string, code: string, detail?: string, field?: string) {
    super(`${step}${detail ? ` ${detail}` : ''}: ${code}`, { field });
    this.name = 'SyscallError';
    this.code = code;
  }
}

export function errnoCode(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null && 'code' in e ? String((e as { code: unknown }).code) : undefined;
}
