import { writeFileAtomic } from '../../io/atomic.js';
import { field, resolveConfig } from '../../train/config.js';
import type { Command } from '../command.js';
import { forwardReport } from '../forward.js';

interface ForwardOptions {
  model: string;
  inputs: string;
  out: string;
  greedyTokens: number;
}

export const forwardCommand: Command = {
  name: 'forward',
  summary: 'run a T5 checkpoint on parity inputs and write encoder states, logits, NLL, loss, grad_P, greedy tokens and buckets as JSON',
  schema: {
    model: field.dir('Hugging Face checkpoint directory (config.json + model.safetensors)'),
    inputs: field.file('safetensors file of inputs.input_ids, inputs.attention_mask, inputs.labels, inputs.decoder_input_ids and optionally a prompt inputs.P'),
    out: field.file('output JSON file'),
    greedyTokens: field.int('new tokens for greedy decoding', 10, { min: 1 }),
  },
  async run({ flags }) {
    const o = resolveConfig(this.schema, {}, flags, null) as unknown as ForwardOptions;
    const report = await forwardReport(o.model, o.inputs, o.greedyTokens);
    writeFileAtomic(o.out, [JSON.stringify(report)]);
    return { summary: `loss ${report.loss}; written to ${o.out}`, result: { out: o.out, loss: report.loss } };
  },
};
