// `bpt pretrain` on a tiny fresh T5: 6 steps in one go, and 3 steps (or a time limit), a stop,
// then the resumed steps, end with bit-identical weights and the same log; the saved model loads
// back as a Hugging Face checkpoint with a ByT5 tokenizer; the held-out loss is logged (replayed,
// equal to eager); a first stage of its own mixture hands over to the main one; bad options are refused.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { loadHfCheckpoint } from '../../src/io/checkpoint.js';
import { loadTokenizer } from '../../src/io/tokenizer/load.js';
import { pretrainOptions } from '../../src/pretrain/options.js';
import { pretrainData, runPretrain, startingPoint } from '../../src/pretrain/pretrain.js';
import { readLog } from '../../src/train/log.js';
import { makeOptimizer } from '../../src/train/optimizers.js';
import { tensor } from '../../src/tensor/create.js';
import { tempDir } from '../util/fixtures.js';
import { initGpu } from '../util/gpu.js';

const t = suite('pretrain/resume');
let root: string;
t.before(async () => {
  await initGpu();
  root = tempDir('pretrain');
  const text = Array.from({ length: 60 }, (_, i) => `Paragraph ${i}: the quick brown fox ${i % 2 ? 'jumps over' : 'walks past'} the lazy dog.`).join('\n\n');
  writeFileSync(join(root, 'corpus.txt'), text);
});
t.after(() => rmSync(root, { recursive: true, force: true }));

const flags = (out: string, extra: Record<string, string> = {}): Record<string, unknown> => ({
  out: join(root, out), corpus: join(root, 'corpus.txt'), progress: 'none', 'd-model': '16', 'd-kv': '8', 'num-heads': '2', 'd-ff': '24',
  'num-layers': '1', 'num-decoder-layers': '1', 'relative-attention-num-buckets': '8', 'relative-attention-max-distance': '16',
  'input-length': '24', 'batch-size': '3', steps: '6', 'warmup-steps': '2', 'eval-segments': '4', 'eval-every': '3',
  'checkpoint-every': '2', 'log-every': '1', 'dropout-rate': '0.1', ...extra,
});

t('uninterrupted and resumed runs end bit for bit equal', async () => {
  await runPretrain(pretrainOptions(null, flags('full')), false);
  await runPretrain(pretrainOptions(null, flags('split', { 'stop-after': '3' })), false);
  assert.throws(() => pretrainOptions(null, flags('x', { 'noise-density': '0' })), /noise-density/);
  await runPretrain(pretrainOptions(null, flags('split')), true);
  const weights = (run: string): Buffer => readFileSync(join(root, run, 'model', 'model.safetensors'));
  assert.ok(weights('full').equals(weights('split')), 'same weights');
  const steps = (run: string) => readLog(join(root, run, 'log.jsonl')).filter((r) => r.kind === 'step').map((r) => [r.step, r.loss]);
  assert.equal(steps('split'), steps('full'));
  assert.equal(steps('full').map(([s]) => s), [1, 2, 3, 4, 5, 6]);
  const evals = readLog(join(root, 'full', 'log.jsonl')).filter((r) => r.kind === 'eval');
  assert.equal(evals.map((r) => r.step), [3, 6]);
  assert.ok(evals.every((r) => typeof r.loss === 'number' && r.loss > 0));
  const run = JSON.parse(readFileSync(join(root, 'full', 'run.json'), 'utf8')) as { status: string; info: { segments: { inputs_length: number } } };
  assert.is(run.status, 'complete');
  assert.is(run.info.segments.inputs_length, 24);
  const ckpt = loadHfCheckpoint(join(root, 'full', 'model'));
  assert.is(ckpt.config.d_model, 16);
  assert.is(ckpt.config.dropout_rate, 0.1);
  assert.is(loadTokenizer(join(root, 'full', 'model')).vocabSize, 384);
  let refused = '';
  try {
    await runPretrain(pretrainOptions(null, flags('full')), false);
  } catch (err) {
    refused = (err as Error).message;
  }
  assert.match(refused, /already holds a run: pass --resume/);
});

t('a time limit stops at a checkpoint with a held-out evaluation, and the run resumes to the same weights', async () => {
  // Runs after the first test: 'full' is the uninterrupted run. The limit is spent within the first step.
  const stopped = await runPretrain(pretrainOptions(null, flags('timed', { 'max-minutes': '1e-9' })), false);
  assert.is(stopped, null);
  const log = () => readLog(join(root, 'timed', 'log.jsonl'));
  assert.equal(log().filter((r) => r.kind === 'eval').map((r) => r.step), [1]);
  const event = log().find((r) => r.kind === 'event' && r.event === 'stopped');
  assert.match(String(event?.message), /stopped at its time limit \(1e-9 minutes\) after step 1 of 6; continue with --resume/);
  // The limit is presentation: a resume without it is accepted and runs to the end.
  await runPretrain(pretrainOptions(null, flags('timed')), true);
  const weights = (run: string): Buffer => readFileSync(join(root, run, 'model', 'model.safetensors'));
  assert.ok(weights('timed').equals(weights('full')), 'same weights');
  const steps = (run: string) => readLog(join(root, run, 'log.jsonl')).filter((r) => r.kind === 'step').map((r) => [r.step, r.loss]);
  assert.equal(steps('timed'), steps('full'));
  assert.equal(log().filter((r) => r.kind === 'eval').map((r) => r.step), [1, 3, 6]);
  assert.throws(() => pretrainOptions(null, flags('x', { 'max-minutes': '0' })), /max-minutes/);
});

t('a mixture run with per-example loss resumes bit for bit and logs every objective', async () => {
  const mix = { mixture: 'span=2,copy=1,similar=1,opposite=1', 'loss-per-example': 'true', 'target-length': '16', 'batch-size': '5', 'dropout-rate': '0' };
  await runPretrain(pretrainOptions(null, flags('mix-full', mix)), false);
  await runPretrain(pretrainOptions(null, flags('mix-split', { ...mix, 'stop-after': '3' })), false);
  await runPretrain(pretrainOptions(null, flags('mix-split', mix)), true);
  const weights = (run: string, dir: string): Buffer => readFileSync(join(root, run, dir, 'model.safetensors'));
  assert.ok(weights('mix-full', 'model').equals(weights('mix-split', 'model')), 'same weights');
  assert.ok(weights('mix-full', 'snapshot').equals(weights('mix-full', 'model')), 'the last checkpoint snapshot holds the final weights');
  const evalsOf = (run: string) => readLog(join(root, run, 'log.jsonl')).filter((r) => r.kind === 'eval');
  const evals = evalsOf('mix-full');
  // The held-out loss is captured and replayed: at step 6 the uninterrupted run replays every batch
  // that the resumed process runs eagerly first, and the numbers agree to the bit.
  const heldOut = (run: string) => evalsOf(run).map(({ step, loss, objectives, input_gain }) => ({ step, loss, objectives, input_gain }));
  assert.equal(heldOut('mix-split'), heldOut('mix-full'));
  const objectives = evals[0]!.objectives as Record<string, number>;
  assert.equal(Object.keys(objectives), ['span', 'copy', 'similar', 'opposite']);
  const gain = evals[0]!.input_gain as Record<string, number>;
  assert.equal(Object.keys(gain), Object.keys(objectives));
  assert.ok(Object.values(gain).every(Number.isFinite) && Object.values(gain).some((g) => g !== 0), `input gains ${JSON.stringify(gain)}`);
  const rates = [0.4, 0.2, 0.2, 0.2];
  const weighted = Object.values(objectives).reduce((a, v, i) => a + rates[i]! * v, 0);
  assert.ok(Math.abs(weighted - (evals[0]!.loss as number)) < 1e-9, 'the eval loss is the rate-weighted mean');
  const run = JSON.parse(readFileSync(join(root, 'mix-full', 'run.json'), 'utf8')) as { info: { mixture: Record<string, { rows_per_batch: number }>; lengths: unknown } };
  assert.equal(Object.values(run.info.mixture).map((m) => m.rows_per_batch), [2, 1, 1, 1]);
  assert.equal(run.info.lengths, { input: 24, target: 16 });
  assert.throws(() => pretrainOptions(null, flags('z', { mixture: 'span=1,noise=1' })), /unknown objective 'noise'/);
});

t('a first stage of its own mixture: its rows, then the main mixture where each stream left off', () => {
  const base = { mixture: 'span=2,copy=1', 'target-length': '16', 'batch-size': '3' };
  const staged = pretrainOptions(null, flags('s', { ...base, 'stage-mixture': 'copy=1', 'stage-steps': '2' }));
  const { tok } = startingPoint(staged);
  const { mixture } = pretrainData(staged, tok);
  // Copy alone, 3 rows a step, draws copy examples 0-5 in the stage; the main mixture's one copy row at step 2 is draw 6.
  const copyOnly = pretrainData(pretrainOptions(null, flags('c', { ...base, mixture: 'copy=1' })), tok).mixture;
  assert.equal(mixture.trainRows(1), copyOnly.trainRows(1));
  const main = mixture.trainRows(2);
  assert.is(main.length, 3);
  assert.equal(main[2], copyOnly.trainRows(2)[0]);
  assert.not.equal(main[0], copyOnly.trainRows(2)[0]);
  assert.equal(Object.fromEntries(mixture.stage!.composition), { copy: 3 });
  assert.throws(() => pretrainOptions(null, flags('z', { ...base, 'stage-mixture': 'copy=1' })), /stageMixture and stageSteps go together/);
  assert.throws(() => pretrainOptions(null, flags('z', { ...base, 'stage-steps': '5' })), /stageMixture and stageSteps go together/);
  assert.throws(() => pretrainOptions(null, flags('z', { ...base, 'stage-mixture': 'cpy=1', 'stage-steps': '5' })), /unknown objective 'cpy'/);
});

t("--scale-parameter gives Adafactor T5's pretraining form (steps scaled by the parameter's RMS)", () => {
  const w = tensor([1, 2, 3]);
  for (const on of [false, true]) {
    const o = pretrainOptions(null, flags('sp', { optimizer: 'adafactor', ...(on ? { 'scale-parameter': 'true' } : {}) }));
    assert.is(o.scaleParameter, on);
    const opt = makeOptimizer(o.optimizer, [{ name: 'model', params: [w], lr: o.lr }], o.weightDecay, o.scaleParameter);
    assert.is((opt.groups[0] as unknown as { scaleParameter: boolean }).scaleParameter, on);
    opt.dispose();
  }
  w.dispose();
});

t('sizes cannot be combined with --init', () => {
  assert.throws(() => pretrainOptions(null, flags('y', { init: join(root, 'full', 'model') })), /'init' takes the sizes from/);
});

t.run();
