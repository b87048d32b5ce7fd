import { runEval } from '../../bpt/eval_stage.js';
import { EVAL_SCHEMA, evalOptions } from '../../bpt/options.js';
import { formatScores, type Command } from '../command.js';

export const evalCommand: Command = {
  name: 'eval',
  summary: 'score a model with a prompt (PEFT adapter or target run directory) on the validation or test split of tasks',
  schema: EVAL_SCHEMA,
  config: true,
  async run({ configFile, flags }) {
    const r = await runEval(evalOptions(configFile, flags));
    return { summary: `${r.split}: ${formatScores(r.tasks, r.average)}; results in ${r.out}`, result: { ...r } };
  },
};
