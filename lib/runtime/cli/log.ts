// runc's --log / --log-format: JSON lines {"level","msg","time"} or logfmt text, appended; stderr by default.
import * as io from '../../util/io';
import fs = require('node:fs');

export type LogFormat = 'text' | 'json';

export class Logger {
  constructor(private readonly file: string | undefined, private readonly format: LogFormat, private readonly debugOn: boolean) {}

  private write(level: string, msg: string): void {
    const time = new Date().toISOString();
    const line = this.format === 'json'
      ? JSON.stringify({ level, msg, time }) + '\n'
      : `time="${time}" level=${level} msg=${JSON.stringify(msg)}\n`;
    if (this.file) {
      try { fs.appendFileSync(this.file, line); } catch { /* logging must never mask the real error */ }
    }
  }

  debug(msg: string): void {
    if (this.debugOn) this.write('debug', msg);
  }

  warn(msg: string): void {
    this.write('warning', msg);
    if (!this.file) io.err(`berth: warning: ${msg}\n`);
  }

  error(msg: string): void {
    this.write('error', msg);
  }
}
