import { embeddedModelDir, formatTable, runDemo } from '../../demo/demo.js';
import { DEMO_PROTOCOL, quickProtocol } from '../../demo/protocol.js';
import { join } from 'node:path';
import { REPORT_FILE } from '../../report/html.js';
import { ConfigError, field, resolveConfig } from '../../train/config.js';
import { RUN_FIELDS, type ProgressMode } from '../../train/options.js';
import type { Command } from '../command.js';

interface DemoFlags {
  out: string | null;
  model: string | null;
  quick: boolean;
  progress: ProgressMode;
}

function stamp(): string {
  return new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
}

export const demoCommand: Command = {
  name: 'demo',
  summary: 'BPT on real data (npm sentiment + SpamAssassin) with the embedded model: PT, vanilla transfer, BPT and multi-target BPT over 3 seeds; prints a table, writes report.html',
  resume: true,
  schema: {
    out: field.dir('output directory; null = runs/demo-<time>', null),
    model: field.dir('T5 checkpoint directory; null = the embedded models/byt5-tiny', null),
    quick: field.bool('toy sizes (one seed, a few steps): checks that everything runs, in about a minute', false),
    progress: RUN_FIELDS.progress,
  },
  async run({ flags, resume }) {
    const o = resolveConfig(this.schema, {}, flags, null) as unknown as DemoFlags;
    if (resume && o.out === null) throw new ConfigError('--resume continues the demo in --out DIR: give --out');
    const out = o.out ?? `runs/demo-${stamp()}`;
    const result = await runDemo({
      out,
      model: o.model ?? embeddedModelDir(),
      protocol: o.quick ? quickProtocol() : DEMO_PROTOCOL,
      progress: o.progress,
      resume,
    });
    const report = join(out, REPORT_FILE);
    return { summary: `${formatTable(result)}\nreport: ${report}`, result: { ...result, report } };
  },
};
