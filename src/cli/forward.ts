// `bpt forward`: everything a person porting a checkpoint compares against Hugging Face, from a
// safetensors file of inputs: inputs.input_ids [B, S], inputs.attention_mask [B, L + S] (1 over
// the prompt), inputs.labels and inputs.decoder_input_ids [B, T], and optionally a prompt inputs.P [L, d].
import { valueAndGrad } from '../autograd/grad.js';
import { loadHfCheckpoint } from '../io/checkpoint.js';
import { readSafetensors } from '../io/safetensors.js';
import { toFloat32, toInt32, type HostTensor } from '../io/dtype.js';
import { relativePositionBucket } from '../nn/t5/attention.js';
import { greedyGenerate } from '../nn/t5/generate.js';
import { seq2seq, tokenNll } from '../nn/t5/seq2seq.js';
import { disposeModel, modelFromCheckpoint } from '../nn/t5/weights.js';
import { noGrad } from '../autograd/tape.js';
import { checkLabels } from '../ops/cross_entropy.js';
import { checkIds } from '../ops/embedding.js';
import { keep, tidy } from '../tensor/scope.js';
import { tensor } from '../tensor/create.js';
import { readAll, type Tensor } from '../tensor/tensor.js';

/** The outputs of `bpt forward`, number arrays flattened row-major with their shapes alongside. */
export interface ForwardReport {
  precision: 'f32';
  shapes: Record<string, number[]>;
  encoder_last_hidden_state: number[];
  logits: number[];
  token_nll: number[];
  loss: number;
  grad_P: number[] | null;
  greedy_sequences: number[][];
  buckets_bidirectional: number[];
  buckets_unidirectional: number[];
}

function input(tensors: Map<string, HostTensor>, name: string, file: string): HostTensor {
  const t = tensors.get(name);
  if (!t) throw new Error(`${file}: tensor "${name}" is missing (have: ${[...tensors.keys()].join(', ')})`);
  return t;
}

/** Runs the model of `modelDir` on the inputs file and returns every quantity of the parity fixture. */
export async function forwardReport(modelDir: string, inputsFile: string, greedyTokens = 10): Promise<ForwardReport> {
  const ckpt = loadHfCheckpoint(modelDir);
  const { tensors } = readSafetensors(inputsFile);
  const ids = input(tensors, 'inputs.input_ids', inputsFile);
  const mask = input(tensors, 'inputs.attention_mask', inputsFile);
  const labels = input(tensors, 'inputs.labels', inputsFile);
  const decIn = input(tensors, 'inputs.decoder_input_ids', inputsFile);
  const hostP = tensors.get('inputs.P');
  const [b, s] = ids.shape as [number, number];
  const l = hostP ? hostP.shape[0]! : 0;
  const fullMask = toInt32(mask, 'inputs.attention_mask');
  if (mask.shape[0] !== b || mask.shape[1] !== l + s) {
    throw new Error(`${inputsFile}: inputs.attention_mask is [${mask.shape}], expected [${b}, ${l + s}] (prompt + tokens)`);
  }
  const tokenMask = new Float32Array(b * s);
  for (let i = 0; i < b; i++) {
    for (let j = 0; j < l; j++) {
      if (fullMask[i * (l + s) + j] !== 1) throw new Error(`${inputsFile}: attention_mask must be 1 over the prompt (row ${i}, position ${j})`);
    }
    for (let j = 0; j < s; j++) tokenMask[i * s + j] = fullMask[i * (l + s) + l + j]!;
  }
  // Ids from a file are checked on the host, so a bad one is named instead of clamped on the GPU.
  const vocab = ckpt.config.vocab_size;
  const hostIds = toInt32(ids, 'inputs.input_ids');
  const hostDec = toInt32(decIn, 'inputs.decoder_input_ids');
  const hostLabels = toInt32(labels, 'inputs.labels');
  checkIds(hostIds, vocab, ids.shape, `${inputsFile}: inputs.input_ids`);
  checkIds(hostDec, vocab, decIn.shape, `${inputsFile}: inputs.decoder_input_ids`);
  checkLabels(hostLabels, vocab);
  if (decIn.shape.join() !== labels.shape.join()) {
    throw new Error(`${inputsFile}: inputs.decoder_input_ids [${decIn.shape}] and inputs.labels [${labels.shape}] differ in shape`);
  }
  const model = modelFromCheckpoint(ckpt);
  const batch = tidy(() => ({
    inputIds: keep(tensor(hostIds, ids.shape, 'i32')),
    attentionMask: keep(tensor(tokenMask, [b, s])),
    decoderInputIds: keep(tensor(hostDec, decIn.shape, 'i32')),
    labels: keep(tensor(hostLabels, labels.shape, 'i32')),
  }));
  const P: Tensor | undefined = hostP ? keep(tensor(toFloat32(hostP, 'inputs.P'), hostP.shape)) : undefined;
  try {
    // One pass: with a prompt, the forward inside valueAndGrad also gives the reported outputs.
    const pass = () => {
      const o = seq2seq(model, batch, P);
      const nll = noGrad(() => tokenNll(o.logits, batch.labels));
      return { value: o.loss, aux: { hidden: o.encoderHidden, logits: o.logits, nll } };
    };
    const out = P ? valueAndGrad(pass, [P]) : { ...noGrad(() => tidy(pass)), grads: [] };
    const host = await readAll({ ...out.aux, loss: out.value, gradP: out.grads[0] ?? null });
    const report: ForwardReport = {
      precision: 'f32',
      shapes: {
        encoder_last_hidden_state: [...out.aux.hidden.shape],
        logits: [...out.aux.logits.shape],
        token_nll: [...out.aux.nll.shape],
        grad_P: P ? [...P.shape] : [],
      },
      encoder_last_hidden_state: Array.from(host.hidden),
      logits: Array.from(host.logits),
      token_nll: Array.from(host.nll),
      loss: host.loss[0]!,
      grad_P: host.gradP ? Array.from(host.gradP) : null,
      greedy_sequences: await greedyGenerate(model, batch.inputIds, batch.attentionMask, { maxNewTokens: greedyTokens, ...(P ? { prompt: P } : {}) }),
      buckets_bidirectional: [],
      buckets_unidirectional: [],
    };
    for (let r = -200; r <= 200; r++) {
      const { relative_attention_num_buckets: nb, relative_attention_max_distance: md } = model.config;
      report.buckets_bidirectional.push(relativePositionBucket(r, true, nb, md));
      report.buckets_unidirectional.push(relativePositionBucket(r, false, nb, md));
    }
    [out.value, ...Object.values(out.aux), ...out.grads].forEach((t) => t.dispose());
    return report;
  } finally {
    Object.values(batch).forEach((t) => t.dispose());
    P?.dispose();
    disposeModel(model);
  }
}
