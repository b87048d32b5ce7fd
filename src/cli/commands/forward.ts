import { required, type Command } from '../command.js';
import { forwardReport } from '../forward.js';
import { writeFileAtomic } from '../../io/safetensors.js';

export const forwardCommand: Command = {
  name: 'forward',
  summary: 'run a T5 checkpoint on parity inputs and write encoder states, logits, NLL, loss, grad_P, greedy tokens and buckets as JSON',
  usage: '--model DIR --inputs FILE.safetensors --out OUT.json',
  options: {
    model: { type: 'string', help: 'Hugging Face checkpoint directory (config.json + model.safetensors)' },
    inputs: { type: 'string', help: 'inputs laid out like the t5-parity fixtures (inputs.P, inputs.input_ids, ...)' },
    out: { type: 'string', help: 'output JSON file' },
    'greedy-tokens': { type: 'string', help: 'new tokens for greedy decoding', default: '10' },
  },
  async run(values) {
    const report = await forwardReport(required(this, values, 'model'), required(this, values, 'inputs'), Number(values['greedy-tokens']));
    writeFileAtomic(required(this, values, 'out'), [JSON.stringify(report)]);
  },
};
