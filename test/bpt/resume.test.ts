// Checkpoint + resume continue a run bit for bit: 4 steps in one go and 2 steps, a stop, then 2
// resumed steps give identical particles (with dropout, task sampling, AdamW moments and the
// schedule in play, and with the SVGD code's RMSProp); a target run stopped mid-epoch ends with
// the same prompt, history and test scores; the logs read as one run.
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { sourceOptions, targetOptions } from '../../src/bpt/options.js';
import { runSource } from '../../src/bpt/source.js';
import { runTarget } from '../../src/bpt/target.js';
import { readSafetensors } from '../../src/io/safetensors.js';
import { loadTrainState } from '../../src/train/checkpoint.js';
import { readLog } from '../../src/train/log.js';
import { initGpu } from '../util/gpu.js';
import { tempDir, tinyGlue, tinyModelDir } from '../util/fixtures.js';

const t = suite('bpt/resume');
let root: string;
t.before(async () => {
  await initGpu();
  root = tempDir('resume');
  tinyModelDir(join(root, 'model'), 3, 0.1);
  tinyGlue(join(root, 'data'));
});
t.after(() => rmSync(root, { recursive: true, force: true }));

const common = (out: string) => ({
  model: join(root, 'model'), 'data-dir': join(root, 'data'), out: join(root, out), progress: 'none',
  'prompt-length': '4', 'max-input-length': '48', 'pad-multiple': '8', 'warmup-steps': '1', 'log-every': '1',
});

function prompts(dir: string): Float32Array {
  return readSafetensors(join(dir, 'prompts.safetensors')).tensors.get('prompts')!.data as Float32Array;
}

/** Step records without their wall-clock time. */
function steps(dir: string): unknown[] {
  return readLog(join(dir, 'log.jsonl')).filter((r) => r.kind === 'step').map(({ time: _, ...rest }) => rest);
}

for (const optimizer of ['adamw', 'svgd-rmsprop'] as const) {
  t(`source (${optimizer}): 4 steps = 2 steps + resume 2, bit for bit`, async () => {
    const flags = { tasks: 'rte,mrpc,cola', steps: '4', particles: '3', 'task-sampling': '2', optimizer, lr: optimizer === 'adamw' ? '0.3' : '0.01' };
    await runSource(sourceOptions(null, { ...common(`a-${optimizer}`), ...flags }), false);
    const b = { ...common(`b-${optimizer}`), ...flags };
    await runSource(sourceOptions(null, { ...b, 'stop-after': '2' }), false);
    const state = loadTrainState(join(root, `b-${optimizer}`, 'checkpoint.safetensors'));
    assert.is(state.step, 2);
    await runSource(sourceOptions(null, b), true);
    const pa = prompts(join(root, `a-${optimizer}`)), pb = prompts(join(root, `b-${optimizer}`));
    assert.is(pa.length, 3 * 4 * 16);
    assert.equal([...pb], [...pa], 'identical particles');
    assert.equal(steps(join(root, `b-${optimizer}`)), steps(join(root, `a-${optimizer}`)), 'identical step logs');
    const before = steps(join(root, `a-${optimizer}`))[0] as { h?: number; particle_loss?: number[] };
    assert.ok(before.h! > 0 && before.particle_loss!.length === 3, 'SVGD statistics are logged');
  });
}

t('resume refuses a completed run, changed options, and a missing checkpoint', async () => {
  const done = { ...common('a-adamw'), tasks: 'rte,mrpc,cola', steps: '4', particles: '3', 'task-sampling': '2' };
  await runSource(sourceOptions(null, done), true).then(() => assert.unreachable('resumed a completed run'), (e: Error) => assert.match(e.message, /already completed/));
  await runSource(sourceOptions(null, done), false).then(() => assert.unreachable('overwrote a run'), (e: Error) => assert.match(e.message, /already holds a run/));
  const c = { ...common('c'), tasks: 'rte', steps: '4', particles: '2' };
  await runSource(sourceOptions(null, { ...c, 'stop-after': '1' }), false);
  await runSource(sourceOptions(null, { ...c, particles: '3' }), true).then(() => assert.unreachable('resumed with other options'), (e: Error) => assert.match(e.message, /particles: checkpoint 2, now 3/));
  await runSource(sourceOptions(null, { ...common('never'), tasks: 'rte', steps: '2' }), true).then(() => assert.unreachable(), (e: Error) => assert.match(e.message, /no checkpoint\.safetensors/));
});

t('target stopped mid-epoch and resumed ends identical (prompt, validation history, test)', async () => {
  const src = join(root, 'a-adamw');
  const flags = { tasks: 'rte', source: src, epochs: '2', 'batch-size': '5', 'eval-mode': 'rank' };
  await runTarget(targetOptions(null, { ...common('ta'), ...flags }), false);
  const b = { ...common('tb'), ...flags };
  await runTarget(targetOptions(null, { ...b, 'stop-after': '4' }), false);
  await runTarget(targetOptions(null, b), true);
  const adapter = (d: string) => [...(readSafetensors(join(root, d, 'adapter', 'adapter_model.safetensors')).tensors.get('prompt_embeddings')!.data as Float32Array)];
  assert.equal(adapter('tb'), adapter('ta'));
  const results = (d: string) => {
    const r = JSON.parse(readFileSync(join(root, d, 'results.json'), 'utf8')) as Record<string, unknown>;
    return { best: r.best_epoch, test: r.test, history: r.history };
  };
  assert.equal(results('tb'), results('ta'));
  assert.equal(steps(join(root, 'tb')), steps(join(root, 'ta')));
});

t.run();
