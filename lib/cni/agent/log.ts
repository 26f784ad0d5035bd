// The agent's log: one JSON object per line ({time, level, msg, ...fields}) on stdout or appended to a file.
import * as fs from 'node:fs';

export type Level = 'debug' | 'info' | 'warn' | 'error';

export class JsonLog {
  constructor(private readonly file?: string, private readonly debugOn = false) {}

  write(level: Level, msg: string, fields: Record<string, unknown> = {}): void {
    if (level === 'debug' && !this.debugOn) return;
    const line = JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields }) + '\n';
    if (this.file) {
      try { fs.appendFileSync(this.file, line); } catch { /* a full disk must not stop forwarding */ }
    } else {
      process.stdout.write(line);
    }
  }

  debug(msg: string, f?: Record<string, unknown>): void { this.write('debug', msg, f); }
  info(msg: string, f?: Record<string, unknown>): void { this.write('info', msg, f); }
  warn(msg: string, f?: Record<string, unknown>): void { this.write('warn', msg, f); }
  error(msg: string, f?: Record<string, unknown>): void { this.write('error', msg, f); }
}
