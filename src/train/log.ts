// JSON Lines logs: one object per line, appended as training goes, so a crashed run keeps what it
// logged and `jq`/pandas read it directly. Every record carries `step`; a resumed run first cuts
// the records of steps after its checkpoint, so the log reads as one uninterrupted run.
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { writeFileAtomic } from '../io/atomic.js';
import { fsCall } from '../util/fs_errors.js';

/** A log record: a kind ('step', 'eval', 'event', ...), the step it belongs to, and any fields. */
export type LogRecord = { kind: string; step: number } & Record<string, unknown>;

export class JsonlLog {
  /**
   * Opens `path` for appending. `resumeStep` null starts a new log (an old file is replaced);
   * a number keeps only the records with step <= resumeStep (and lines that are not JSON are
   * dropped: the tail a crash may cut).
   */
  constructor(readonly path: string, resumeStep: number | null) {
    if (resumeStep === null || !existsSync(path)) {
      writeFileAtomic(path, []);
      return;
    }
    const kept = readFileSync(path, 'utf8').split('\n').filter((line) => {
      if (line.trim() === '') return false;
      try {
        const r = JSON.parse(line) as { step?: unknown };
        return typeof r.step === 'number' && r.step <= resumeStep;
      } catch {
        return false;
      }
    });
    writeFileAtomic(path, kept.map((l) => `${l}\n`));
  }

  /** Appends one record (numbers that are not finite become null, as JSON requires). */
  write(record: LogRecord): void {
    fsCall(this.path, 'append to', () => appendFileSync(this.path, `${JSON.stringify({ time: new Date().toISOString(), ...record })}\n`));
  }
}

/** Reads a JSONL log (for tests and tools); throws naming the line that is not JSON. */
export function readLog(path: string): LogRecord[] {
  return readFileSync(path, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l, i) => {
    try {
      return JSON.parse(l) as LogRecord;
    } catch {
      throw new Error(`${path}:${i + 1}: not a JSON line`);
    }
  });
}
