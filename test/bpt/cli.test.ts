// The whole pipeline through the command line, as a user runs it: `bpt source` -> `bpt target`
// -> `bpt eval` on a tiny random T5 (saved as a Hugging Face checkpoint) and tiny GLUE-format
// tasks, driven by a JSON config plus flags. Then bad input: each fails with exit code 1, a
// message naming the problem, and no output written.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { loadAdapter, saveAdapter } from '../../src/bpt/peft.js';
import { readLog } from '../../src/train/log.js';
import { tempDir, tinyGlue, tinyModelDir } from '../util/fixtures.js';

const t = suite('bpt/cli');
// dist/test/bpt/cli.test.js -> dist/cli.js
const CLI = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'cli.js');
let root: string;

t.before(() => {
  root = tempDir('cli');
  tinyModelDir(join(root, 'model'));
  tinyGlue(join(root, 'data'));
});
t.after(() => rmSync(root, { recursive: true, force: true }));

function bpt(...args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp' } });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

const json = (p: string): Record<string, unknown> => JSON.parse(readFileSync(p, 'utf8')) as Record<string, unknown>;

t('source -> target -> eval through the CLI, config file plus flags', () => {
  const config = join(root, 'source.json');
  writeFileSync(config, JSON.stringify({
    model: join(root, 'model'), dataDir: join(root, 'data'), tasks: ['mrpc', 'cola'], particles: 3, steps: 4,
    promptLength: 4, maxInputLength: 48, warmupSteps: 1, logEvery: 2, checkpointEvery: 2,
  }));
  const src = join(root, 'source');
  const s = bpt('source', '--config', config, '--out', src, '--progress', 'lines');
  assert.is(s.code, 0, s.err);
  assert.match(s.err, /source bpt 4\/4 \(100\.0%\)/, 'plain progress lines when stderr is not a TTY');
  const run = json(join(src, 'run.json'));
  assert.is(run.status, 'complete');
  assert.is((run.options as Record<string, unknown>).particles, 3);
  assert.is((run.options as Record<string, unknown>).score, 'sum', 'open choices are recorded');
  assert.ok(!existsSync(join(src, 'checkpoint.safetensors')), 'the checkpoint goes once the run completes');
  const log = readLog(join(src, 'log.jsonl'));
  assert.equal(log.filter((r) => r.kind === 'step').map((r) => r.step), [2, 4]);
  const step = log[0] as Record<string, unknown>;
  for (const k of ['loss', 'task_loss', 'h', 'mean_off_diagonal_k', 'attraction', 'repulsion', 'particle_loss']) assert.ok(k in step, `log has ${k}`);
  assert.equal(loadAdapter(join(src, 'mean'), 16).prompt.shape, [4, 16]);
  for (let j = 0; j < 3; j++) assert.ok(existsSync(join(src, 'adapters', `particle-${j}`, 'adapter_model.safetensors')));
  assert.ok(existsSync(join(src, 'splits.json')));

  const tgt = join(root, 'target');
  const r = bpt('target', '--model', join(root, 'model'), '--data-dir', join(root, 'data'), '--tasks', 'rte', '--source', src,
    '--out', tgt, '--epochs', '2', '--batch-size', '4', '--prompt-length', '4', '--max-input-length', '48', '--warmup-steps', '1',
    '--sigma', '5', '--progress', 'none');
  assert.is(r.code, 0, r.err);
  const results = json(join(tgt, 'results.json')) as { best_epoch: number; history: unknown[]; test: { average: number; tasks: Record<string, { score: number; count: number }> } };
  assert.is(results.history.length, 2, 'validation after every epoch');
  assert.ok(results.best_epoch === 1 || results.best_epoch === 2);
  assert.is(results.test.tasks.rte!.count, 4);
  const info = (json(join(tgt, 'run.json')).info as { prior: { coefficient: number } });
  assert.is(info.prior.coefficient, 1 / 50);
  assert.equal(loadAdapter(join(tgt, 'adapter'), 16).prompt.shape, [4, 16]);

  const out = join(root, 'eval.json');
  const e = bpt('eval', '--model', join(root, 'model'), '--data-dir', join(root, 'data'), '--tasks', 'rte', '--adapter', join(tgt, 'adapter'),
    '--out', out, '--max-input-length', '48', '--progress', 'none');
  assert.is(e.code, 0, e.err);
  const ev = json(out) as { tasks: Record<string, { score: number }> };
  assert.is(ev.tasks.rte!.score, results.test.tasks.rte!.score, 'eval of the saved adapter reproduces the target run');
  assert.is(readFileSync(join(root, 'eval.predictions.jsonl'), 'utf8').trim().split('\n').length, 4);
});

t('SIGINT finishes the step and writes a checkpoint that --resume continues from', async () => {
  const out = join(root, 'interrupted');
  const args = ['source', '--model', join(root, 'model'), '--data-dir', join(root, 'data'), '--tasks', 'rte,cola', '--out', out,
    '--steps', '400', '--particles', '2', '--prompt-length', '4', '--max-input-length', '48', '--checkpoint-every', '0', '--log-every', '1'];
  const child = spawn(process.execPath, [CLI, ...args, '--progress', 'lines'], { env: { ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp' } });
  let err = '';
  let sent = false;
  child.stderr.on('data', (d: Buffer) => {
    err += d.toString();
    if (!sent && /source bpt [1-9]\d*\//.test(err)) {
      sent = true;
      child.kill('SIGINT');
    }
  });
  const code = await new Promise<number | null>((res) => child.on('close', res));
  assert.is(code, 0, err);
  const m = /interrupted \(SIGINT\) after step (\d+) of 400/.exec(err);
  assert.ok(m, err);
  const at = Number(m![1]);
  assert.ok(existsSync(join(out, 'checkpoint.safetensors')));
  assert.is(json(join(out, 'run.json')).status, 'running');
  const resumed = bpt(...args, '--resume', '--stop-after', '2', '--progress', 'none');
  assert.is(resumed.code, 0, resumed.err);
  assert.match(resumed.err, new RegExp(`stopped after step ${at + 2} of 400`));
  const steps = readLog(join(out, 'log.jsonl')).filter((r) => r.kind === 'step').map((r) => r.step);
  assert.equal(steps, Array.from({ length: at + 2 }, (_, i) => i + 1), 'one log, each step once');
});

t('bad input fails with a clear message and writes nothing', () => {
  const base = ['--data-dir', join(root, 'data'), '--progress', 'none', '--prompt-length', '4', '--steps', '1'];
  const missing = bpt('source', '--model', join(root, 'nomodel'), '--tasks', 'rte', '--out', join(root, 'x1'), ...base);
  assert.is(missing.code, 1);
  assert.match(missing.err, /nomodel: config\.json not found/);
  assert.ok(!existsSync(join(root, 'x1')));

  mkdirSync(join(root, 'baddata', 'glue', 'RTE'), { recursive: true });
  writeFileSync(join(root, 'baddata', 'glue', 'RTE', 'train.tsv'), 'index\tsentence1\tsentence2\tlabel\n0\ta\tb\tentailment\n1\ta\tb\n');
  writeFileSync(join(root, 'baddata', 'glue', 'RTE', 'dev.tsv'), 'index\tsentence1\tsentence2\tlabel\n0\ta\tb\tentailment\n');
  const bad = bpt('source', '--model', join(root, 'model'), '--tasks', 'rte', '--out', join(root, 'x2'), ...base, '--data-dir', join(root, 'baddata'));
  assert.is(bad.code, 1);
  assert.match(bad.err, /RTE\/train\.tsv:3: expected 4 tab-separated columns, found 3/);
  assert.ok(!existsSync(join(root, 'x2')));

  const narrow = join(root, 'narrow');
  saveAdapter(narrow, { kind: 'prompt', prompt: { data: new Float32Array(4 * 8), shape: [4, 8] } }, { baseModel: null, numHeads: 1, numLayers: 1 });
  const wrong = bpt('eval', '--model', join(root, 'model'), '--data-dir', join(root, 'data'), '--tasks', 'rte', '--adapter', narrow,
    '--out', join(root, 'x3.json'), '--progress', 'none');
  assert.is(wrong.code, 1);
  assert.match(wrong.err, /the prompt is \[4, 8\] \(token_dim 8\) but the model's d_model is 16/);
  assert.ok(!existsSync(join(root, 'x3.json')));

  const usage = bpt('source', '--particles', '0', '--model', 'm', '--tasks', 'rte', '--out', join(root, 'x4'));
  assert.is(usage.code, 1);
  assert.match(usage.err, /--particles: 'particles' must be an integer >= 1/);
  const unknown = bpt('source', '--particels', '3');
  assert.is(unknown.code, 2);
  assert.match(unknown.err, /unknown option '--particels'\n\(Did you mean --particles\?\)/);
});

t.run();
