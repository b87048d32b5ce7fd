import { TARGET_SCHEMA, targetOptions } from '../../bpt/options.js';
import { runTarget } from '../../bpt/target.js';
import { schemaOptions } from '../../train/config.js';
import { RESUME_OPTIONS, STAGE_OPTIONS, stageFlags } from '../../train/options.js';
import type { Command } from '../command.js';

export const targetCommand: Command = {
  name: 'target',
  summary: 'stage 2: adapt to target task(s) (BPT with the source posterior as prior, or PT / vanilla / SPoT / ATTEMPT / MPT / fine-tuning), keep the best epoch, report test',
  usage: '[--config FILE.json] [--resume] [options]',
  options: {
    ...STAGE_OPTIONS,
    ...RESUME_OPTIONS,
    ...schemaOptions(TARGET_SCHEMA),
  },
  async run(values) {
    const { configFile, resume, flags } = stageFlags(values);
    await runTarget(targetOptions(configFile, flags), resume);
  },
};
