// Every training step reads the GPU back once: a BPT source step (loss, per-row losses, SVGD
// statistics), a BPT target step (loss and prior penalty) and a pretraining step. Each command runs
// twice, for 2 and for 4 steps, with everything else (evaluation, checkpoint, outputs) the same, so
// the difference in the recorder's readback count is what steps 3 and 4 read. With log-every 2 one
// of them is a log step and one is not; each reads at least once (the loss), so a difference of
// exactly 2 means one readback for each.
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { sourceOptions, targetOptions } from '../../src/bpt/options.js';
import { runSource } from '../../src/bpt/source.js';
import { runTarget } from '../../src/bpt/target.js';
import { recorder } from '../../src/gpu/recorder.js';
import { pretrainOptions } from '../../src/pretrain/options.js';
import { runPretrain } from '../../src/pretrain/pretrain.js';
import { tempDir, tinyGlue, tinyModelDir } from '../util/fixtures.js';
import { initGpu } from '../util/gpu.js';

const t = suite('train/readbacks');
let root: string;
t.before(async () => {
  await initGpu();
  root = tempDir('readbacks');
  tinyModelDir(join(root, 'model'));
  tinyGlue(join(root, 'data'));
  writeFileSync(join(root, 'corpus.txt'), Array.from({ length: 40 }, (_, i) => `Paragraph ${i}: the quick brown fox jumps over the lazy dog.`).join('\n\n'));
});
t.after(() => rmSync(root, { recursive: true, force: true }));

const common = (out: string) => ({
  model: join(root, 'model'), 'data-dir': join(root, 'data'), out: join(root, out), progress: 'none',
  'prompt-length': '4', 'max-input-length': '48', 'warmup-steps': '1', 'log-every': '2', 'checkpoint-every': '0',
});

/** Readbacks during `run`. */
async function readbacks(run: () => Promise<unknown>): Promise<number> {
  await recorder().sync();
  const before = recorder().snapshot().readbacks;
  await run();
  return recorder().snapshot().readbacks - before;
}

/** Asserts that the run of 4 steps read back exactly twice more than the run of 2. */
async function oncePerStep(what: string, run: (steps: 2 | 4) => Promise<unknown>): Promise<void> {
  const two = await readbacks(() => run(2));
  const four = await readbacks(() => run(4));
  assert.is(four - two, 2, `${what}: ${two} readbacks in 2 steps, ${four} in 4: steps 3 and 4 should read back once each`);
}

t('a BPT source step reads back once', async () => {
  await oncePerStep('source', (steps) =>
    runSource(sourceOptions(null, { ...common(`source-${steps}`), tasks: 'mrpc,cola', particles: '3', steps: `${steps}` }), false));
});

t('a BPT target step (loss and prior penalty) reads back once', async () => {
  // 12 training rows in one epoch: batches of 6 make 2 steps, of 3 make 4; evaluation is the same.
  await oncePerStep('target', (steps) =>
    runTarget(targetOptions(null, { ...common(`target-${steps}`), tasks: 'rte', source: join(root, 'source-4'), sigma: '5',
      epochs: '1', 'batch-size': `${12 / steps}`, 'eval-mode': 'rank' }), false));
});

t('a pretraining step reads back once', async () => {
  await oncePerStep('pretrain', (steps) =>
    runPretrain(pretrainOptions(null, {
      out: join(root, `pretrain-${steps}`), corpus: join(root, 'corpus.txt'), progress: 'none', 'd-model': '16', 'd-kv': '8',
      'num-heads': '2', 'd-ff': '24', 'num-layers': '1', 'num-decoder-layers': '1', 'relative-attention-num-buckets': '8',
      'relative-attention-max-distance': '16', 'input-length': '24', 'batch-size': '3', steps: `${steps}`, 'warmup-steps': '1',
      'eval-segments': '4', 'eval-every': '0', 'log-every': '2', 'checkpoint-every': '0',
    }), false));
});

t.run();
