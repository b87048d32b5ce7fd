// A run's output directory: run.json (what ran, with every option and the environment, status
// 'running' then 'complete' with the results), log.jsonl, checkpoint.safetensors and the stage's
// outputs. Each file is replaced atomically. A directory that already holds a run is never
// overwritten silently: continue it with --resume or choose another --out. One process at a time
// writes a run directory (it holds the directory's lock from open to close), and the temporaries
// of a writer that was killed are removed when the next one opens it.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { gpu } from '../gpu/device.js';
import { ensureDirectory, removeTemporaries, writeFileAtomic } from '../io/atomic.js';
import { DirLock } from '../io/dir_lock.js';
import { checkOutputDirectory } from '../io/outputs.js';
import { CHECKPOINT_FILE, checkResumeOptions, loadTrainState, saveTrainState, type TrainState } from './checkpoint.js';
import type { Resolved, Schema } from './config.js';
import { JsonlLog } from './log.js';

export const RUN_FILE = 'run.json';
export const LOG_FILE = 'log.jsonl';
const FORMAT = 'bpt-run/1';

/** run.json as a later stage reads it. */
export interface RunRecord {
  format: string;
  stage: string;
  method: string;
  status: 'running' | 'complete';
  options: Resolved;
  /** Stage-specific facts: tasks, files written, model summary, results. */
  info: Record<string, unknown>;
  environment: Record<string, unknown>;
  started: string;
  finished: string | null;
}

/** Reads another run's run.json (e.g. the source stage's, from the target stage). */
export function readRun(dir: string, stage?: string): RunRecord {
  const path = join(dir, RUN_FILE);
  if (!existsSync(path)) throw new Error(`${dir}: not a bpt run directory (${RUN_FILE} is missing)`);
  let r: RunRecord;
  try {
    r = JSON.parse(readFileSync(path, 'utf8')) as RunRecord;
  } catch (err) {
    throw new Error(`${path}: malformed JSON: ${(err as Error).message}`);
  }
  if (r.format !== FORMAT) throw new Error(`${path}: format ${JSON.stringify(r.format)}, expected ${FORMAT}`);
  if (stage && r.stage !== stage) throw new Error(`${dir}: a '${r.stage}' run, expected a '${stage}' run`);
  if (r.status !== 'complete') throw new Error(`${dir}: the ${r.stage} run has not completed (resume it first)`);
  return r;
}

function readStatus(path: string): string | null {
  try {
    return (JSON.parse(readFileSync(path, 'utf8')) as RunRecord).status;
  } catch {
    return null;
  }
}

function environment(): Record<string, unknown> {
  let adapter: string | null = null;
  try {
    adapter = gpu().report.description;
  } catch {
    adapter = null;
  }
  return { node: process.version, platform: `${process.platform}-${process.arch}`, adapter, argv: process.argv.slice(2) };
}

/** The start rules of open(): a resume needs a checkpoint, a fresh run a directory without one. */
function checkStart(dir: string, resume: boolean): void {
  const runPath = join(dir, RUN_FILE);
  const ckptPath = join(dir, CHECKPOINT_FILE);
  const done = existsSync(runPath) && readStatus(runPath) === 'complete';
  if (resume) {
    if (!existsSync(ckptPath)) throw new Error(done ? `${dir}: the run already completed; nothing to resume` : `${dir}: no ${CHECKPOINT_FILE} to resume from`);
  } else if (existsSync(ckptPath) || done) {
    // A run that stopped before its first checkpoint has nothing to lose and may start afresh.
    throw new Error(`${dir} already holds a run: pass --resume to continue it, or choose another --out`);
  }
}

/** One stage's run directory, open for writing (see the file comment). */
export class Run {
  readonly log: JsonlLog;
  private record: RunRecord;

  private constructor(readonly dir: string, record: RunRecord, readonly resumed: TrainState | null, private readonly lock: DirLock) {
    this.record = record;
    this.log = new JsonlLog(join(dir, LOG_FILE), resumed ? resumed.step : null);
  }

  /**
   * Checks, before any work starts and without writing anything, what open() will check: that
   * `dir` can be created and written, that no live run holds it, and that it holds a run to
   * resume (with `resume`) or none yet (without).
   */
  static check(dir: string, resume: boolean): void {
    checkOutputDirectory(dir, 'the run directory');
    if (existsSync(dir)) DirLock.checkFree(dir);
    checkStart(dir, resume);
  }

  /**
   * Opens `dir` for a run of `stage`, taking its lock (see dir_lock.ts; close() gives it back).
   * Without `resume` the directory must not hold a run yet. With `resume` it must hold this
   * stage's checkpoint, made with the same options (an option added since, at its `schema`
   * default, matches a checkpoint that does not name it).
   */
  static open(dir: string, stage: string, method: string, options: Resolved, resume: boolean, schema?: Schema): Run {
    checkStart(dir, resume);
    ensureDirectory(dir);
    const lock = DirLock.acquire(dir);
    try {
      const notes: string[] = [];
      if (lock.tookOver) notes.push(`took over the lock of a run that is no longer running (PID ${lock.tookOver.pid}, started ${lock.tookOver.started})`);
      const litter = removeTemporaries(dir);
      if (litter.length) notes.push(`removed ${litter.length} temporary file(s) left by an interrupted writer: ${litter.join(', ')}`);
      // Again under the lock: a run that held it may have finished in between.
      checkStart(dir, resume);
      const runPath = join(dir, RUN_FILE);
      const ckptPath = join(dir, CHECKPOINT_FILE);
      let resumed: TrainState | null = null;
      if (resume) {
        resumed = loadTrainState(ckptPath);
        if (resumed.stage !== stage) throw new Error(`${ckptPath}: a '${resumed.stage}' checkpoint, not '${stage}'`);
        checkResumeOptions(ckptPath, resumed.options, options, schema);
      }
      const previous = resumed && existsSync(runPath) ? (JSON.parse(readFileSync(runPath, 'utf8')) as RunRecord) : null;
      const record: RunRecord = {
        format: FORMAT,
        stage,
        method,
        status: 'running',
        options,
        info: previous?.info ?? {},
        environment: environment(),
        started: previous?.started ?? new Date().toISOString(),
        finished: null,
      };
      const run = new Run(dir, record, resumed, lock);
      run.writeRecord();
      for (const message of notes) {
        process.stderr.write(`${dir}: ${message}\n`);
        run.log.write({ kind: 'event', step: resumed?.step ?? 0, event: 'recovered', message });
      }
      return run;
    } catch (err) {
      lock.release();
      throw err;
    }
  }

  /** Gives the directory's lock back (every way out of a stage ends here; safe to repeat). */
  close(): void {
    this.lock.release();
  }

  /** Path of a file in the run directory. */
  path(name: string): string {
    return join(this.dir, name);
  }

  /** Merges facts into run.json's `info` and rewrites it. */
  setInfo(info: Record<string, unknown>): void {
    this.record.info = { ...this.record.info, ...info };
    this.writeRecord();
  }

  /** The run's resumable checkpoint file. */
  get checkpointPath(): string {
    return this.path(CHECKPOINT_FILE);
  }

  saveCheckpoint(state: Omit<TrainState, 'options' | 'stage'>): void {
    saveTrainState(this.checkpointPath, { ...state, stage: this.record.stage, options: this.record.options });
  }

  /** Marks the run complete with its results; drops the checkpoint unless asked to keep it. */
  complete(info: Record<string, unknown>, keepCheckpoint: boolean): void {
    this.record.info = { ...this.record.info, ...info };
    this.record.status = 'complete';
    this.record.finished = new Date().toISOString();
    this.writeRecord();
    if (!keepCheckpoint) rmSync(this.path(CHECKPOINT_FILE), { force: true });
  }

  private writeRecord(): void {
    writeFileAtomic(this.path(RUN_FILE), [`${JSON.stringify(this.record, null, 2)}\n`]);
  }
}
