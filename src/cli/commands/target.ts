import { TARGET_SCHEMA, targetOptions } from '../../bpt/options.js';
import { runTarget } from '../../bpt/target.js';
import { formatScores, stoppedOutcome, type Command } from '../command.js';

export const targetCommand: Command = {
  name: 'target',
  summary: 'stage 2: adapt to target task(s) (BPT with the source posterior as prior, or PT / vanilla / SPoT / ATTEMPT / MPT / fine-tuning), keep the best epoch, report test',
  schema: TARGET_SCHEMA,
  config: true,
  resume: true,
  async run({ configFile, flags, resume }) {
    const o = targetOptions(configFile, flags);
    const r = await runTarget(o, resume);
    if (!r) return stoppedOutcome(o.out);
    const summary = [
      `target ${r.method}: best epoch ${r.best_epoch} of ${o.epochs}; results in ${r.out}`,
      `  validation  ${formatScores(r.validation.tasks, r.validation.average)}`,
      `  test        ${formatScores(r.test.tasks, r.test.average)}`,
    ].join('\n');
    return { summary, result: { status: 'complete', ...r } };
  },
};
