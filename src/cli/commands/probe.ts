import { embeddedModelDir } from '../../demo/demo.js';
import { formatProbe, runProbe, type ProbeOptions } from '../../pretrain/milestones/probe.js';
import { L2_GRID } from '../../pretrain/milestones/linear_probe.js';
import { SENTIMENT_SOURCES, type SentimentSource } from '../../tasks/demo_data.js';
import { ConfigError, field, resolveConfig, type Schema } from '../../train/config.js';
import type { Command } from '../command.js';

const SCHEMA: Schema = {
  model: field.dir('Hugging Face T5 checkpoint directory; null = the embedded models/byt5-tiny', null),
  tokenizer: field.path('tokenizer: a spiece.model or a checkpoint directory; null = the model directory', null),
  train: field.list(`sentiment sources the classifier is fitted on (${SENTIMENT_SOURCES.join(', ')})`, ['amazon', 'yelp']),
  test: field.list('sentiment sources it is scored on (none of --train)', ['imdb']),
  maxLength: field.int('tokens per text (longer texts are cut, EOS kept)', 256, { min: 2 }),
  batchSize: field.int('texts per encoder batch', 32, { min: 1 }),
  seed: field.int('seed of the held-out split and of the random weights', 0, { min: 0 }),
  heldOut: field.number('share of the train texts held out to choose the L2 strength', 0.2, { above: 0, max: 0.9 }),
  l2: field.list('L2 strengths to choose from (on standardised features)', L2_GRID.map(String)),
};

function sources(flag: string, names: readonly string[]): SentimentSource[] {
  const bad = names.filter((n) => !(SENTIMENT_SOURCES as readonly string[]).includes(n));
  if (bad.length) throw new ConfigError(`--${flag}: unknown sentiment source ${bad.map((b) => `'${b}'`).join(', ')} (have ${SENTIMENT_SOURCES.join(', ')})`);
  return names as SentimentSource[];
}

/** The probe's options from flags, checked before any work. */
export function probeOptions(flags: Record<string, string | boolean>): ProbeOptions {
  const o = resolveConfig(SCHEMA, {}, flags, null) as unknown as Omit<ProbeOptions, 'l2Grid'> & { l2: string[] };
  const train = sources('train', o.train);
  const test = sources('test', o.test);
  const both = train.filter((s) => test.includes(s));
  if (both.length) throw new ConfigError(`--train and --test share ${both.join(', ')}: the test sources must be unseen`);
  const l2Grid = o.l2.map((v) => Number(v));
  const badL2 = o.l2.filter((_, i) => !(l2Grid[i]! > 0 && Number.isFinite(l2Grid[i])));
  if (badL2.length) throw new ConfigError(`--l2: want positive numbers, got ${o.l2.join(',')}`);
  return { ...o, model: o.model ?? embeddedModelDir(), train, test, l2Grid };
}

export const probeCommand: Command = {
  name: 'probe',
  summary: 'milestone: linear probe (L2 logistic regression) on frozen mean-pooled encoder states, Amazon+Yelp -> IMDb sentiment, the checkpoint beside random weights of its architecture',
  schema: SCHEMA,
  async run({ flags }) {
    const report = await runProbe(probeOptions(flags));
    return { summary: formatProbe(report), result: { ...report } };
  },
};
