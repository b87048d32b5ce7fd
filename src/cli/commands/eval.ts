import { runEval } from '../../bpt/eval_stage.js';
import { EVAL_SCHEMA, evalOptions } from '../../bpt/options.js';
import { schemaOptions } from '../../train/config.js';
import { STAGE_OPTIONS, stageFlags } from '../../train/options.js';
import type { Command } from '../command.js';

export const evalCommand: Command = {
  name: 'eval',
  summary: 'score a model with a prompt (PEFT adapter or target run directory) on the validation or test split of tasks',
  usage: '[--config FILE.json] [options]',
  options: { ...STAGE_OPTIONS, ...schemaOptions(EVAL_SCHEMA) },
  async run(values) {
    const { configFile, flags } = stageFlags(values);
    await runEval(evalOptions(configFile, flags));
  },
};
