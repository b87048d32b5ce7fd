import { writeFileAtomic } from '../../io/atomic.js';
import { required, type Command } from '../command.js';
import { forwardReport } from '../forward.js';

export const forwardCommand: Command = {
  name: 'forward',
  summary: 'run a T5 checkpoint on parity inputs and write encoder states, logits, NLL, loss, grad_P, greedy tokens and buckets as JSON',
  usage: '--model DIR --inputs FILE.safetensors --out OUT.json',
  options: {
    model: { type: 'string', help: 'Hugging Face checkpoint directory (config.json + model.safetensors)' },
    inputs: { type: 'string', help: 'safetensors file of inputs.input_ids, inputs.attention_mask, inputs.labels, inputs.decoder_input_ids and optionally a prompt inputs.P' },
    out: { type: 'string', help: 'output JSON file' },
    'greedy-tokens': { type: 'string', help: 'new tokens for greedy decoding', default: '10' },
  },
  async run(values) {
    const report = await forwardReport(required(this, values, 'model'), required(this, values, 'inputs'), Number(values['greedy-tokens']));
    writeFileAtomic(required(this, values, 'out'), [JSON.stringify(report)]);
  },
};
