import { SOURCE_SCHEMA, sourceOptions } from '../../bpt/options.js';
import { runSource } from '../../bpt/source.js';
import { stoppedOutcome, type Command } from '../command.js';

export const sourceCommand: Command = {
  name: 'source',
  summary: 'stage 1: learn source prompts (BPT particles with SVGD, or the vanilla / SPoT / MPT baselines) and save them as PEFT adapters',
  schema: SOURCE_SCHEMA,
  config: true,
  resume: true,
  async run({ configFile, flags, resume }) {
    const o = sourceOptions(configFile, flags);
    const r = await runSource(o, resume);
    if (!r) return stoppedOutcome(o.out);
    return { summary: `source ${r.method}: ${r.steps} steps; prompts ${r.prompts.join(', ')} saved in ${r.out}`, result: { status: 'complete', ...r } };
  },
};
