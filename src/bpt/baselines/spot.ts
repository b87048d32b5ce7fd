// SPoT's retrieval (Vu et al., 2022): a target prompt trained briefly from scratch serves as the
// target task's embedding; the source prompt with the highest cosine similarity to it initialises
// the real target run.
import { recorder } from '../../gpu/recorder.js';
import type { HostTensor } from '../../io/dtype.js';
import { tidy } from '../../tensor/scope.js';
import { collate, type Encoded } from '../../train/data.js';
import { disposeAll, toHost } from '../../train/host.js';
import type { LoadedModel } from '../../train/model.js';
import { makeOptimizer } from '../../train/optimizers.js';
import { dropoutSeed, epochBatches } from '../../train/sampler.js';
import { trainStep } from '../../train/step.js';
import { initPrompts, type InitOptions } from '../init.js';
import { StackPrompts } from '../prompts.js';

export interface ProbeOptions {
  steps: number;
  batchSize: number;
  lr: number;
  weightDecay: number;
  padMultiple: number;
  modelDropout: boolean;
  init: Omit<InitOptions, 'count'>;
}

/** Cosine similarity of two flattened prompts. */
export function cosine(a: Float32Array, b: Float32Array): number {
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i]! * b[i]!;
    aa += a[i]! * a[i]!;
    bb += b[i]! * b[i]!;
  }
  return aa === 0 || bb === 0 ? 0 : ab / Math.sqrt(aa * bb);
}

/** Trains the probe prompt for `steps` steps (constant lr) and returns it. */
export async function trainProbe(lm: LoadedModel, train: readonly Encoded[], o: ProbeOptions): Promise<HostTensor<Float32Array>> {
  const probe = new StackPrompts(tidy(() => initPrompts(lm.model, lm.tokenizer, { ...o.init, count: 1 })));
  const opt = makeOptimizer('adamw', probe.groups({ p: o.lr, lowRank: o.lr }), o.weightDecay);
  const { pad_token_id: padId, decoder_start_token_id: startId } = lm.model.config;
  const step = trainStep(lm, { prompt: (batch) => probe.prompt(batch), penalty: null, params: probe.named() }, opt, o.modelDropout);
  try {
    let epoch = 0;
    let batches = epochBatches(train.length, o.batchSize, o.init.seed + 1, epoch);
    for (let s = 0, b = 0; s < o.steps; s++, b++) {
      if (b === batches.length) {
        b = 0;
        batches = epochBatches(train.length, o.batchSize, o.init.seed + 1, ++epoch);
      }
      const h = collate(batches[b]!.map((i) => train[i]!), { padId, decoderStartId: startId, padMultiple: o.padMultiple });
      const { values: out } = step(h, dropoutSeed(o.init.seed + 1, s));
      disposeAll(out);
      await recorder().sync();
    }
    return await toHost(probe.stack);
  } finally {
    step.dispose();
    opt.dispose();
    probe.dispose();
  }
}

/** Index of the source prompt (rows of `sources` [K, L, d]) most similar to `probe`, and all similarities. */
export function pickSource(probe: HostTensor<Float32Array>, sources: HostTensor<Float32Array>): { index: number; similarities: number[] } {
  const size = probe.data.length;
  const k = sources.shape[0]!;
  if (sources.data.length !== k * size) throw new Error(`SPoT: source prompts [${sources.shape.join(', ')}] do not match the probe [${probe.shape.join(', ')}]`);
  const similarities = Array.from({ length: k }, (_, i) => cosine(probe.data, sources.data.subarray(i * size, (i + 1) * size)));
  return { index: similarities.indexOf(Math.max(...similarities)), similarities };
}
