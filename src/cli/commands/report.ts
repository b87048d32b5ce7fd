import { writeRunReport } from '../../report/html.js';
import { UsageError, type Command } from '../command.js';

export const reportCommand: Command = {
  name: 'report',
  summary: 'write report.html for a run directory (or a directory of runs): loss per task, SVGD bandwidth and spread, evaluation tables; self-contained',
  usage: 'RUN_DIR [--out FILE.html]',
  options: {
    out: { type: 'string', help: 'output file (default RUN_DIR/report.html)' },
  },
  async run(values, positionals) {
    if (positionals.length !== 1) throw new UsageError('usage: bpt report RUN_DIR [--out FILE.html]');
    const out = writeRunReport(positionals[0]!, typeof values.out === 'string' ? values.out : undefined);
    process.stdout.write(`${out}\n`);
  },
};
