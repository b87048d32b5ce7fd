// report.html from synthetic run directories: a BPT source run (loss per task, SVGD bandwidth,
// particle spread, kernel terms) and a target run (validation per epoch, test table); the page is
// self-contained (no scripts, no links, no URLs), escapes what it prints, and a directory of runs
// gets one section per run. Plot helpers: nice ticks, empty data.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { findRuns, writeRunReport } from '../../src/report/html.js';
import { linePlot, niceTicks } from '../../src/report/svg.js';
import { tempDir } from '../util/fixtures.js';

const t = suite('report/report');
let root: string;

function writeRun(dir: string, stage: string, method: string, options: Record<string, unknown>, log: Array<Record<string, unknown>>, results?: unknown): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'run.json'), JSON.stringify({
    format: 'bpt-run/1', stage, method, status: 'complete', options, info: {}, environment: {},
    started: '2026-01-01T00:00:00.000Z', finished: '2026-01-01T00:01:30.000Z',
  }));
  writeFileSync(join(dir, 'log.jsonl'), log.map((r) => `${JSON.stringify(r)}\n`).join(''));
  if (results) writeFileSync(join(dir, 'results.json'), JSON.stringify(results));
}

t.before(() => {
  root = tempDir('report');
  writeRun(join(root, 'runs', 'a-source'), 'source', 'bpt', { tasks: ['sentiment:amazon', 'spam'], particles: 5, bandwidth: 'median' },
    Array.from({ length: 20 }, (_, i) => ({
      kind: 'step', step: (i + 1) * 5, loss: 3 - i * 0.1, task_loss: { 'sentiment:amazon': 3 - i * 0.1, spam: 2 - i * 0.05 },
      h: 1 + i * 0.02, mean_off_diagonal_k: 0.4, attraction: 0.5, repulsion: 0.01,
    })));
  writeRun(join(root, 'runs', 'b-target'), 'target', 'pt', { tasks: ['sentiment:imdb'] }, [
    { kind: 'step', step: 1, loss: 2.5 }, { kind: 'step', step: 2, loss: 2.1 },
    { kind: 'eval', step: 2, epoch: 1, split: 'validation', average: 61, tasks: { 'sentiment:imdb': { score: 61, metrics: { accuracy: 61 }, count: 10, invalid: 0 } } },
    { kind: 'eval', step: 4, epoch: 2, split: 'validation', average: 64, tasks: { 'sentiment:imdb': { score: 64, metrics: { accuracy: 64 }, count: 10, invalid: 0 } } },
  ], { method: 'pt', best_epoch: 2, validation: { average: 64 }, test: { average: 58, tasks: { 'sentiment:imdb': { score: 58, metrics: { accuracy: 58 }, invalid: 1 } } } });
});
t.after(() => rmSync(root, { recursive: true, force: true }));

t('a BPT source run: loss per task and the SVGD plots', () => {
  const html = readFileSync(writeRunReport(join(root, 'runs', 'a-source')), 'utf8');
  for (const s of ['Training loss', 'sentiment:amazon', 'spam', 'SVGD bandwidth h', 'Particle spread: median pairwise distance', 'Mean off-diagonal kernel value', 'wall time 90 s']) {
    assert.ok(html.includes(s), `contains "${s}"`);
  }
  assert.ok((html.match(/<svg /g) ?? []).length >= 5);
  assert.ok(/<polyline points="[\d., ]+"/.test(html));
});

t('a directory of runs: one section per run, the evaluation table, self-contained', () => {
  const out = join(root, 'all.html');
  writeRunReport(join(root, 'runs'), out);
  const html = readFileSync(out, 'utf8');
  assert.equal(findRuns(join(root, 'runs')).map((d) => d.slice(-8)), [`a-source`, `b-target`]);
  assert.is((html.match(/<section>/g) ?? []).length, 2);
  assert.ok(html.includes('Validation score'));
  assert.match(html, /<td>sentiment:imdb<\/td><td>58\.00<\/td><td>accuracy 58\.00<\/td><td>1<\/td>/);
  assert.match(html, /Best epoch 2 \(validation 64\.00\); test average 58\.00/);
  assert.not.match(html, /https?:|<script|<link|src=|@import/i);
  assert.ok(html.startsWith('<!DOCTYPE html>'));
});

t('errors name the directory', () => {
  assert.throws(() => writeRunReport(join(root, 'nothing-here')), /does not exist/);
  mkdirSync(join(root, 'empty'));
  assert.throws(() => writeRunReport(join(root, 'empty')), /no bpt run directories/);
});

t('plots: round ticks, escaped text, a note when nothing was logged', () => {
  assert.equal(niceTicks(0, 1), [0, 0.2, 0.4, 0.6, 0.8, 1]);
  assert.equal(niceTicks(3, 97), [20, 40, 60, 80]);
  assert.match(linePlot([], { title: 'a<b', xLabel: 'x', yLabel: 'y' }), /a&lt;b.*no data logged/);
  const log = linePlot([{ name: 'r', points: [[1, 0.01], [2, 0.1], [3, -1]] }], { title: 't', xLabel: 'x', yLabel: 'y', logY: true });
  assert.match(log, /<polyline points="[\d.]+,[\d.]+ [\d.]+,[\d.]+"/, 'non-positive values are dropped on a log axis');
});

t.run();
