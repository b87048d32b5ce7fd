// Run configurations: the paper's defaults, file < flag precedence, and errors that name the
// option, the source (file or flag) and what is allowed.
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { evalOptions, SOURCE_SCHEMA, sourceOptions, targetLr, targetOptions } from '../../src/bpt/options.js';
import { checkResumeOptions } from '../../src/train/checkpoint.js';
import { ConfigError, field } from '../../src/train/config.js';
import { tempDir } from '../util/fixtures.js';

const t = suite('bpt/config');
let dir: string;
t.before(() => void (dir = tempDir('config')));
t.after(() => rmSync(dir, { recursive: true, force: true }));

const base = { model: 'm', tasks: 'rte,cola', out: 'o' };

t('defaults follow the protocol and are all recorded', () => {
  const o = sourceOptions(null, base);
  assert.equal(o.tasks, ['rte', 'cola']);
  assert.is(o.method, 'bpt');
  assert.is(o.particles, 5);
  assert.is(o.promptLength, 100);
  assert.is(o.maxInputLength, 256);
  assert.is(o.lr, 0.3);
  assert.is(o.warmupSteps, 500);
  assert.is(o.optimizer, 'adamw');
  assert.is(o.bandwidth, 'median');
  assert.is(o.score, 'sum');
  assert.is(o.taskSampling, null);
  assert.equal(Object.keys(o).sort(), Object.keys(SOURCE_SCHEMA).sort(), 'every option resolved');
  const tg = targetOptions(null, { ...base, source: 's' });
  assert.is(tg.epochs, 20);
  assert.is(tg.batchSize, 32);
  assert.is(targetLr(tg), 0.3);
  assert.is(tg.lrLowRank, 0.4);
  assert.is(tg.rank, 1);
  assert.is(tg.penalize, 'theta');
  assert.is(targetLr(targetOptions(null, { ...base, tasks: 'rte', method: 'finetune' })), 3e-4);
});

t('file values override defaults; flags override the file; flags are converted by type', () => {
  const file = join(dir, 'c.json');
  writeFileSync(file, JSON.stringify({ ...base, tasks: ['rte', 'cola', 'mrpc'], particles: 7, bandwidth: 2.5, modelDropout: false }));
  const o = sourceOptions(file, { particles: '9', 'task-sampling': '2' });
  assert.is(o.particles, 9);
  assert.is(o.bandwidth, 2.5);
  assert.is(o.taskSampling, 2);
  assert.is(o.modelDropout, false);
  assert.is(sourceOptions(file, { 'model-dropout': 'true', bandwidth: 'median' }).modelDropout, true);
  assert.is(sourceOptions(file, { bandwidth: '0.5' }).bandwidth, 0.5);
  assert.is(sourceOptions(file, { 'task-sampling': 'null' }).taskSampling, null);
});

t('errors name the option, where it came from, and what is allowed', () => {
  const file = join(dir, 'bad.json');
  writeFileSync(file, JSON.stringify({ ...base, particls: 3 }));
  assert.throws(() => sourceOptions(file, {}), (e: Error) => e instanceof ConfigError && /unknown option 'particls' \(did you mean 'particles'\?\)/.test(e.message));
  writeFileSync(file, '{"model": ');
  assert.throws(() => sourceOptions(file, {}), /bad\.json: malformed JSON/);
  assert.throws(() => sourceOptions(join(dir, 'none.json'), {}), /does not exist/);
  assert.throws(() => sourceOptions(null, { ...base, particles: '0' }), /--particles: 'particles' must be an integer >= 1 and <= 64, got 0/);
  assert.throws(() => sourceOptions(null, { ...base, particles: '2.5' }), /must be an integer/);
  assert.throws(() => sourceOptions(null, { ...base, lr: '1e999' }), /--lr: 'lr' must be a number > 0, got 1e999 \(too large: it overflows a 64-bit float to Infinity\)/);
  assert.throws(() => sourceOptions(null, { ...base, bandwidth: '-1' }), /'bandwidth' must be median or a number > 0/);
  assert.throws(() => sourceOptions(null, { ...base, optimizer: 'adam' }), /one of adamw, adafactor, sgd, svgd-rmsprop/);
  assert.throws(() => sourceOptions(null, { tasks: 'rte', out: 'o' }), /'model' is required: set --model/);
  assert.throws(() => sourceOptions(null, { ...base, 'eval-mode': 'rank' }), /unknown option --eval-mode/);
  assert.throws(() => sourceOptions(null, { ...base, tasks: 'rte,nli' }), /unknown task 'nli'/);
  assert.throws(() => sourceOptions(null, { ...base, tasks: 'rte,rte' }), /rte is listed twice/);
  assert.throws(() => sourceOptions(null, { ...base, 'task-sampling': '2' }), /kappa = 2\) must be below the number of source tasks \(2\)/);
  assert.throws(() => sourceOptions(null, { ...base, init: 'text' }), /init 'text' needs 'initText'/);
  assert.throws(() => sourceOptions(null, { ...base, init: 'text', 'init-text': 'a' }), /every particle the same prompt/);
  assert.is(sourceOptions(null, { ...base, init: 'text', 'init-text': 'a', method: 'vanilla' }).initText, 'a');
  assert.throws(() => sourceOptions(null, { ...base, method: 'spot', optimizer: 'svgd-rmsprop' }), /no SVGD direction/);
  assert.throws(() => targetOptions(null, base), /method 'bpt' needs 'source'/);
  assert.throws(() => targetOptions(null, { ...base, source: 's', 'test-rest': 'sentiment:yelp' }), /testRest names 'sentiment:yelp', which is not one of tasks/);
  assert.throws(() => targetOptions(null, { ...base, method: 'pt', source: 's' }), /does not use a source/);
  assert.throws(() => targetOptions(null, { ...base, method: 'finetune' }), /one task/);
  assert.throws(() => evalOptions(null, { ...base, split: 'train' }), /one of validation, test/);
  assert.throws(() => sourceOptions(null, { ...base, tasks: 'sentiment:amazon+tv' }), /unknown sentiment source 'tv'/);
  assert.equal(sourceOptions(null, { ...base, tasks: 'sentiment:amazon+imdb,spam' }).tasks, ['sentiment:amazon+imdb', 'spam']);
});

t('resume refuses different options, but not different presentation options', () => {
  const a = sourceOptions(null, base) as unknown as Record<string, never>;
  checkResumeOptions('ckpt', a, { ...a, progress: 'none', logEvery: 3, stopAfter: 2 } as never);
  assert.throws(() => checkResumeOptions('ckpt', a, { ...a, lr: 0.1 } as never), /cannot resume with different options:\n {2}lr: checkpoint 0.3, now 0.1/);
});

t('resume: an option added since the checkpoint matches it at its schema default, and only then', () => {
  const schema = { lr: field.number('lr', 0.3), added: field.bool('new', false) };
  const saved = { lr: 0.3 } as never;
  checkResumeOptions('ckpt', saved, { lr: 0.3, added: false } as never, schema);
  assert.throws(() => checkResumeOptions('ckpt', saved, { lr: 0.3, added: true } as never, schema), /added: checkpoint undefined, now true/);
  assert.throws(() => checkResumeOptions('ckpt', saved, { lr: 0.3, added: false } as never), /added: checkpoint undefined, now false/);
});

t.run();
