// What `bpt` prints, run as a user runs it (dist/cli.js on a tiny random T5): every command ends
// with its result on stdout, as a summary or with --json as exactly one JSON object; progress and
// messages stay on stderr, and --progress bar without a terminal loses none of them.
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { tempDir, tinyGlue, tinyModelDir } from '../util/fixtures.js';

const t = suite('cli/output');
// dist/test/cli/output.test.js -> dist/cli.js
const CLI = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'cli.js');
let root: string;
let small: string[];

t.before(() => {
  root = tempDir('cli-output');
  tinyModelDir(join(root, 'model'));
  tinyGlue(join(root, 'data'));
  small = ['--model', join(root, 'model'), '--data-dir', join(root, 'data'), '--prompt-length', '4', '--max-input-length', '48', '--warmup-steps', '1'];
});
t.after(() => rmSync(root, { recursive: true, force: true }));

function bpt(...args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp' } });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

/** stdout as the one JSON object --json promises. */
function onlyJson(out: string): Record<string, unknown> {
  const lines = out.trimEnd().split('\n');
  assert.is(lines.length, 1, `one line of JSON on stdout, got:\n${out}`);
  return JSON.parse(lines[0]!) as Record<string, unknown>;
}

t('target prints its scores on stdout; in bar mode its validation and test lines still reach stderr', () => {
  const out = join(root, 'pt');
  const r = bpt('target', '--method', 'pt', '--tasks', 'rte', ...small, '--epochs', '1', '--batch-size', '6', '--out', out, '--progress', 'bar');
  assert.is(r.code, 0, r.err);
  assert.match(r.out, new RegExp(`^target pt: best epoch 1 of 1; results in ${out}\\n  validation  rte \\d+\\.\\d\\d \\| average \\d+\\.\\d\\d\\n  test        rte \\d+\\.\\d\\d \\| average \\d+\\.\\d\\d\\n$`));
  assert.match(r.err, /epoch 1 validation: rte \d+\.\d\d/);
  assert.match(r.err, /test \(best epoch 1\): rte \d+\.\d\d/);
  const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as { test: { average: number } };
  assert.ok(r.out.includes(`test        rte ${results.test.average.toFixed(2)}`), 'the summary is the run\'s result');

  const e = bpt('eval', '--tasks', 'rte', ...small.slice(0, 4), '--max-input-length', '48', '--adapter', out, '--out', join(root, 'e.json'), '--progress', 'bar', '--json');
  assert.is(e.code, 0, e.err);
  const doc = onlyJson(e.out) as { command: string; split: string; average: number; out: string; tasks: Record<string, { score: number; count: number }> };
  assert.is(doc.command, 'eval');
  assert.is(doc.split, 'test');
  assert.is(doc.average, results.test.average, 'eval of the target run reproduces its test score');
  assert.is(doc.tasks.rte!.count, 4);
  assert.is(doc.out, join(root, 'e.json'));
  assert.match(e.err, /rte: \d+\.\d\d \(/, 'the per-task line is on stderr');
});

t('source: a summary line, one JSON object with --json, and a stopped run says how to continue', () => {
  const args = ['source', '--tasks', 'rte,cola', ...small, '--particles', '2', '--steps', '2', '--progress', 'none'];
  const text = bpt(...args, '--out', join(root, 's1'));
  assert.is(text.code, 0, text.err);
  assert.match(text.out, new RegExp(`^source bpt: 2 steps; prompts .+ saved in ${join(root, 's1')}\\n$`));
  const json = bpt(...args, '--out', join(root, 's2'), '--json');
  assert.is(json.code, 0, json.err);
  const doc = onlyJson(json.out) as { command: string; status: string; steps: number; prompts: string[] };
  assert.equal([doc.command, doc.status, doc.steps], ['source', 'complete', 2]);
  assert.ok(doc.prompts.length >= 2);
  const stopped = bpt(...args, '--out', join(root, 's3'), '--stop-after', '1', '--json');
  assert.is(stopped.code, 0, stopped.err);
  assert.equal(onlyJson(stopped.out), { command: 'source', status: 'stopped', out: join(root, 's3') });
  const resumed = bpt(...args, '--out', join(root, 's3'), '--resume');
  assert.is(resumed.code, 0, resumed.err);
  assert.match(resumed.out, /^source bpt: 2 steps/);
});

t('pretrain and info print their results too', () => {
  writeFileSync(join(root, 'corpus.txt'), Array.from({ length: 40 }, (_, i) => `Paragraph ${i}: the quick brown fox jumps over the lazy dog.`).join('\n\n'));
  const p = bpt('pretrain', '--out', join(root, 'pre'), '--corpus', join(root, 'corpus.txt'), '--progress', 'none', '--d-model', '16', '--d-kv', '8',
    '--num-heads', '2', '--d-ff', '24', '--num-layers', '1', '--num-decoder-layers', '1', '--relative-attention-num-buckets', '8',
    '--relative-attention-max-distance', '16', '--input-length', '24', '--batch-size', '3', '--steps', '2', '--warmup-steps', '1',
    '--eval-segments', '4', '--eval-every', '0');
  assert.is(p.code, 0, p.err);
  assert.match(p.out, new RegExp(`^pretrain: held-out loss \\d+\\.\\d{4} after 2 steps; model in ${join(root, 'pre', 'model')}\\n$`));
  const info = bpt('info', '--json');
  assert.is(info.code, 0, info.err);
  const doc = onlyJson(info.out);
  assert.is(doc.command, 'info');
  assert.is(typeof doc.description, 'string', info.out);
  assert.ok(Array.isArray(doc.features), info.out);
});

t.run();
