import { writeRunReport } from '../../report/html.js';
import { field, resolveConfig } from '../../train/config.js';
import type { Command } from '../command.js';

export const reportCommand: Command = {
  name: 'report',
  summary: 'write report.html for a run directory (or a directory of runs): loss per task, SVGD bandwidth and spread, evaluation tables; self-contained',
  args: [{ name: 'RUN_DIR', help: 'a run directory, or a directory of runs' }],
  gpu: false,
  schema: {
    out: field.file('output file; null = RUN_DIR/report.html', null),
  },
  async run({ flags, args }) {
    const { out } = resolveConfig(this.schema, {}, flags, null);
    const written = writeRunReport(args[0]!, typeof out === 'string' ? out : undefined);
    return { summary: written, result: { out: written } };
  },
};
