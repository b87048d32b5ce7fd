// Progress of long work (training steps, evaluation batches). On a terminal: a cli-progress bar
// (it detects the terminal width, redraws in place at a bounded rate, computes a smoothed ETA and
// restores the cursor on SIGINT), with messages printed above it. When stderr is not a TTY (CI
// logs, redirected output) a bar would fill the file with carriage returns (and cli-progress
// draws nothing there), so plain lines are printed instead, at most one every `intervalMs` plus
// one at the end.
import * as cliProgress from 'cli-progress';
import type { ProgressMode } from './options.js';

export type ProgressInfo = Record<string, string | number>;

function formatInfo(info: ProgressInfo): string {
  return Object.entries(info).map(([k, v]) => `${k} ${typeof v === 'number' ? formatNumber(v) : v}`).join(' | ');
}

/** Compact numbers for progress lines: 4 significant digits. */
export function formatNumber(v: number): string {
  if (Number.isInteger(v)) return String(v);
  return Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(3) : v.toPrecision(4);
}

function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = Math.floor(s % 60);
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : m > 0 ? `${m}m${String(sec).padStart(2, '0')}s` : `${sec}s`;
}

export class Progress {
  private readonly mode: 'bar' | 'lines' | 'none';
  private multi: cliProgress.MultiBar | null = null;
  private bar: cliProgress.SingleBar | null = null;
  private readonly started = performance.now();
  private lastLine = -Infinity;
  private value = 0;
  private info: ProgressInfo = {};

  /** `start` is where a resumed run begins (its ETA counts only new work). */
  constructor(readonly label: string, readonly total: number, mode: ProgressMode, start = 0,
    private readonly stream: NodeJS.WriteStream = process.stderr, private readonly intervalMs = 10_000) {
    this.mode = mode === 'auto' || mode === 'bar' ? (stream.isTTY ? 'bar' : 'lines') : mode;
    this.value = start;
    if (this.mode === 'bar') {
      this.multi = new cliProgress.MultiBar({
        stream,
        format: `${label} [{bar}] {percentage}% | {value}/{total} | {duration_formatted} < {eta_formatted} | {info}`,
        hideCursor: true,
        linewrap: true,
        // A message printed above the bar leaves the cursor on a fresh line: the bar must be drawn
        // again even when its text has not changed.
        forceRedraw: true,
        barsize: 24,
        // trainLoop handles SIGINT itself (checkpoint, then stop); the bar must not swallow it.
        gracefulExit: false,
        etaBuffer: 50,
        progressCalculationRelative: true,
      }, cliProgress.Presets.shades_classic);
      this.bar = this.multi.create(total, start, { info: '' });
    }
  }

  /** Sets the position and the fields shown after it. */
  update(value: number, info: ProgressInfo = this.info): void {
    this.value = value;
    this.info = info;
    if (this.bar) this.bar.update(value, { info: formatInfo(info) });
    else if (this.mode === 'lines' && performance.now() - this.lastLine >= this.intervalMs) this.line();
  }

  /** Shows what is happening between steps (e.g. an evaluation's progress); null clears it. */
  status(text: string | null): void {
    const { status: _, ...rest } = this.info;
    this.update(this.value, text === null ? rest : { ...rest, status: text });
  }

  /** Prints a message (above the bar on a terminal). */
  log(message: string): void {
    if (this.mode === 'none') return;
    if (this.multi) {
      // cli-progress only buffers a message until its next timed redraw, and stop() drops the
      // buffer: redraw now (clear the bar's line, print the message, draw the bar below it).
      this.multi.log(`${message}\n`);
      this.multi.update();
    } else this.stream.write(`${message}\n`);
  }

  /** Ends the display (a final line in 'lines' mode). */
  stop(): void {
    if (this.multi) {
      this.multi.stop();
      this.multi = null;
      this.bar = null;
    } else if (this.mode === 'lines') this.line();
  }

  private line(): void {
    this.lastLine = performance.now();
    const elapsed = (this.lastLine - this.started) / 1000;
    const pct = this.total > 0 ? (100 * this.value) / this.total : 100;
    const info = formatInfo(this.info);
    this.stream.write(`${this.label} ${this.value}/${this.total} (${pct.toFixed(1)}%) ${formatSeconds(elapsed)}${info ? ` | ${info}` : ''}\n`);
  }
}
