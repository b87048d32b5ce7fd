// Every method of the paper's Table 1 that prompt tuning covers runs end to end on the same
// engine (tiny model and tasks): PT, vanilla transfer, SPoT, ATTEMPT, MPT, multi-target BPT,
// full fine-tuning, adapters and BitFit, each writing its outputs in a form `bpt eval` reads back to the same scores.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { runEval } from '../../src/bpt/eval_stage.js';
import { evalOptions, sourceOptions, targetOptions } from '../../src/bpt/options.js';
import { loadAdapter, type MultitaskAdapter } from '../../src/bpt/peft.js';
import { runSource } from '../../src/bpt/source.js';
import { runTarget } from '../../src/bpt/target.js';
import { recorder } from '../../src/gpu/recorder.js';
import { readLog } from '../../src/train/log.js';
import { initGpu } from '../util/gpu.js';
import { tempDir, tinyGlue, tinyModelDir } from '../util/fixtures.js';

const t = suite('bpt/baselines');
let root: string;
t.before(async () => {
  await initGpu();
  root = tempDir('baselines');
  tinyModelDir(join(root, 'model'));
  tinyGlue(join(root, 'data'));
});
t.after(() => rmSync(root, { recursive: true, force: true }));

const common = (out: string) => ({
  model: join(root, 'model'), 'data-dir': join(root, 'data'), out: join(root, out), progress: 'none',
  'prompt-length': '4', 'max-input-length': '48', 'warmup-steps': '1',
});

async function source(method: string, flags: Record<string, string> = {}): Promise<string> {
  await runSource(sourceOptions(null, { ...common(`src-${method}`), tasks: 'mrpc,cola', method, steps: '3', particles: '2', ...flags }), false);
  return join(root, `src-${method}`);
}

interface Results { test: { average: number; tasks: Record<string, { score: number }> }; validation: { average: number } }

async function target(name: string, flags: Record<string, string>): Promise<Results> {
  await runTarget(targetOptions(null, { ...common(name), tasks: 'rte', epochs: '1', 'batch-size': '6', 'eval-mode': 'rank', ...flags }), false);
  const r = JSON.parse(readFileSync(join(root, name, 'results.json'), 'utf8')) as Results;
  assert.ok(r.test.average >= 0 && r.test.average <= 100);
  return r;
}

/** `bpt eval` of a target run directory gives the run's own test scores. */
async function evalMatches(name: string, r: Results, tasks = 'rte'): Promise<void> {
  const out = join(root, `${name}.eval.json`);
  await runEval(evalOptions(null, {
    model: join(root, 'model'), 'data-dir': join(root, 'data'), progress: 'none', 'max-input-length': '48',
    out, tasks, adapter: join(root, name), 'eval-mode': 'rank',
  }));
  const e = JSON.parse(readFileSync(out, 'utf8')) as { tasks: Record<string, { score: number }> };
  for (const [k, v] of Object.entries(r.test.tasks)) assert.is(e.tasks[k]!.score, v.score, `${name}: eval of ${k}`);
}

t('PT from sampled vocabulary, uniform and text initialisations', async () => {
  for (const init of ['vocab', 'uniform', 'text']) {
    const r = await target(`pt-${init}`, { method: 'pt', init, ...(init === 'text' ? { 'init-text': 'classify' } : {}) });
    assert.equal(loadAdapter(join(root, `pt-${init}`, 'adapter'), 16).prompt.shape, [4, 16]);
    await evalMatches(`pt-${init}`, r);
  }
});

t('vanilla transfer: one source prompt on the union, used as the target init', async () => {
  const src = await source('vanilla');
  assert.equal(JSON.parse(readFileSync(join(src, 'run.json'), 'utf8')).info.prompts, ['prompt']);
  await evalMatches('vanilla', await target('vanilla', { method: 'vanilla', source: src }));
  const out = join(root, 'src-vanilla.eval.json');
  await runEval(evalOptions(null, { model: join(root, 'model'), 'data-dir': join(root, 'data'), progress: 'none', 'max-input-length': '48', out, tasks: 'rte', adapter: src }));
  assert.is(JSON.parse(readFileSync(out, 'utf8')).prompt, 'adapter', 'a source run directory evaluates its mean prompt');
});

t('SPoT: per-task source prompts, the most similar one initialises the target', async () => {
  const src = await source('spot');
  assert.ok(existsSync(join(src, 'adapters', 'mrpc')) && existsSync(join(src, 'adapters', 'cola')));
  await evalMatches('spot', await target('spot', { method: 'spot', source: src, 'spot-probe-steps': '2' }));
  const info = JSON.parse(readFileSync(join(root, 'spot', 'run.json'), 'utf8')).info.spot as { chosen: string; similarities: Record<string, number> };
  assert.ok(['mrpc', 'cola'].includes(info.chosen));
  assert.is(Math.max(...Object.values(info.similarities)), info.similarities[info.chosen]);
});

t('ATTEMPT: input-dependent mixture of frozen source prompts and the target prompt', async () => {
  const src = join(root, 'src-spot');
  const r = await target('attempt', { method: 'attempt', source: src, 'attempt-dim': '3' });
  assert.ok(existsSync(join(root, 'attempt', 'attempt.safetensors')));
  await evalMatches('attempt', r);
});

t('MPT: shared P o (U_k V_k) on the sources, distilled from SPoT teachers; P initialises the target', async () => {
  const src = await source('mpt', { teachers: join(root, 'src-spot'), 'log-every': '1' });
  const distill = readLog(join(src, 'log.jsonl')).map((r) => r.distill as number);
  assert.ok(distill.length === 3 && distill.every((d) => d > 0), `KL(teacher || student) > 0: ${distill.join(', ')}`);
  const multi = loadAdapter(join(src, 'multitask'), 16) as MultitaskAdapter;
  assert.equal(multi.tasks, ['mrpc', 'cola']);
  await evalMatches('mpt', await target('mpt', { method: 'mpt', source: src }));
});

t('multi-target BPT: shared P, one (U_k, V_k) per task, one multitask adapter', async () => {
  const src = await source('bpt');
  const r = await target('multi', { method: 'bpt', source: src, tasks: 'rte,mrpc', rank: '2' });
  const a = loadAdapter(join(root, 'multi', 'adapter'), 16) as MultitaskAdapter;
  assert.equal(a.tasks, ['rte', 'mrpc']);
  assert.equal(a.cols.shape, [2, 4, 2]);
  await evalMatches('multi', r, 'rte,mrpc');
});

t('full fine-tuning: every weight trains (AdamW), the model is saved as an HF checkpoint with its tokenizer', async () => {
  const r = await target('finetune', { method: 'finetune' });
  const model = join(root, 'finetune', 'model');
  assert.ok(existsSync(join(model, 'model.safetensors')));
  assert.is(JSON.parse(readFileSync(join(model, 'tokenizer_config.json'), 'utf8')).tokenizer_class, 'ByT5Tokenizer');
  await evalMatches('finetune', r);
});

t('adapters and BitFit: only the added parameters train; eval loads them back', async () => {
  for (const [method, flags] of [['adapter', { bottleneck: '3' }], ['bitfit', {}]] as const) {
    const r = await target(method, { method, ...flags });
    assert.ok(existsSync(join(root, method, 'extras.safetensors')));
    const info = JSON.parse(readFileSync(join(root, method, 'run.json'), 'utf8')).info as { trainedParameters: number };
    assert.ok(info.trainedParameters > 0);
    await evalMatches(method, r);
  }
});

t('a whole source and target run leaves no GPU memory in use (no tensor outlives its step)', async () => {
  const before = recorder().pool.snapshot().inUse;
  await runSource(sourceOptions(null, { ...common('leak-src'), tasks: 'mrpc,cola', steps: '12', particles: '3', 'log-every': '5' }), false);
  await runTarget(targetOptions(null, { ...common('leak-tgt'), tasks: 'rte,mrpc', source: join(root, 'leak-src'), epochs: '2', 'batch-size': '5' }), false);
  await recorder().sync();
  assert.is(recorder().pool.snapshot().inUse, before);
});

t.run();
