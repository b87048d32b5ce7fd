import { embeddedModelDir, runDemo } from '../../demo/demo.js';
import { DEMO_PROTOCOL, quickProtocol } from '../../demo/protocol.js';
import { PROGRESS_MODES, type ProgressMode } from '../../train/options.js';
import { UsageError, type Command } from '../command.js';

function stamp(): string {
  return new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
}

export const demoCommand: Command = {
  name: 'demo',
  summary: 'BPT on real data (npm sentiment + SpamAssassin) with the embedded model: PT, vanilla transfer, BPT and multi-target BPT over 3 seeds; prints a table, writes report.html',
  usage: '[--out DIR] [--model DIR] [--quick] [--resume]',
  options: {
    out: { type: 'string', help: 'output directory (default runs/demo-<time>)' },
    model: { type: 'string', help: 'T5 checkpoint directory (default: the embedded models/byt5-tiny)' },
    quick: { type: 'boolean', help: 'toy sizes (one seed, a few steps): checks that everything runs, in about a minute' },
    resume: { type: 'boolean', help: 'continue the demo in --out: completed stages are reused, a stopped stage resumes' },
    progress: { type: 'string', help: `progress display: ${PROGRESS_MODES.join(', ')}`, default: 'auto' },
  },
  async run(values) {
    const progress = values.progress as string;
    if (!(PROGRESS_MODES as readonly string[]).includes(progress)) throw new UsageError(`bpt demo: --progress must be one of ${PROGRESS_MODES.join(', ')}`);
    if (values.resume && typeof values.out !== 'string') throw new UsageError('bpt demo: --resume needs --out DIR');
    await runDemo({
      out: typeof values.out === 'string' ? values.out : `runs/demo-${stamp()}`,
      model: typeof values.model === 'string' ? values.model : embeddedModelDir(),
      protocol: values.quick ? quickProtocol() : DEMO_PROTOCOL,
      progress: progress as ProgressMode,
      resume: values.resume === true,
    });
  },
};
