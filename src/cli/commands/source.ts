import { schemaOptions, STAGE_OPTIONS, stageFlags } from '../../bpt/config.js';
import { SOURCE_SCHEMA, sourceOptions } from '../../bpt/options.js';
import { runSource } from '../../bpt/source.js';
import type { Command } from '../command.js';

export const sourceCommand: Command = {
  name: 'source',
  summary: 'stage 1: learn source prompts (BPT particles with SVGD, or the vanilla / SPoT / MPT baselines) and save them as PEFT adapters',
  usage: '[--config FILE.json] [--resume] [options]',
  options: {
    ...STAGE_OPTIONS,
    resume: { type: 'boolean', help: 'continue the run in --out from its checkpoint (same options)' },
    ...schemaOptions(SOURCE_SCHEMA),
  },
  async run(values) {
    const { configFile, resume, flags } = stageFlags(values);
    await runSource(sourceOptions(configFile, flags), resume);
  },
};
