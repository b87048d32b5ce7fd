import { SOURCE_SCHEMA, sourceOptions } from '../../bpt/options.js';
import { runSource } from '../../bpt/source.js';
import { schemaOptions } from '../../train/config.js';
import { RESUME_OPTIONS, STAGE_OPTIONS, stageFlags } from '../../train/options.js';
import type { Command } from '../command.js';

export const sourceCommand: Command = {
  name: 'source',
  summary: 'stage 1: learn source prompts (BPT particles with SVGD, or the vanilla / SPoT / MPT baselines) and save them as PEFT adapters',
  usage: '[--config FILE.json] [--resume] [options]',
  options: {
    ...STAGE_OPTIONS,
    ...RESUME_OPTIONS,
    ...schemaOptions(SOURCE_SCHEMA),
  },
  async run(values) {
    const { configFile, resume, flags } = stageFlags(values);
    await runSource(sourceOptions(configFile, flags), resume);
  },
};
