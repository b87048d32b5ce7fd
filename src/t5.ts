// bpt-webgpu/t5: T5 v1.0 / v1.1 / mT5 / ByT5 on the engine. Hugging Face checkpoint directories
// (config.json + safetensors), the model with soft prompts, fused relative-bias attention,
// seq2seq loss, greedy decoding and rank classification, and the real tokenizers.
//
//   import { initGpu } from 'bpt-webgpu';
//   import { loadHfCheckpoint, modelFromCheckpoint, loadTokenizer, greedyGenerate } from 'bpt-webgpu/t5';

// --- Model ---------------------------------------------------------------------------------------
export { T5Model } from './nn/t5/model.js';
export type { RunMode, DecoderCache } from './nn/t5/model.js';
export { parseT5Config, makeT5Config, t5ConfigToJson, t5ParameterShapes, t5ParameterCount, T5ConfigError } from './nn/t5/config.js';
export type { T5Config } from './nn/t5/config.js';
export { t5Attention, t5AttentionVariants, relativePositionBucket } from './nn/t5/attention.js';
export type { T5AttentionOptions, T5AttentionBias, T5AttentionBackward, T5AttentionVariant } from './nn/t5/attention.js';
export { modelFromCheckpoint, modelToHost, disposeModel, randomCheckpoint } from './nn/t5/weights.js';
export { seq2seq, seq2seqLogits, tokenNll } from './nn/t5/seq2seq.js';
export type { Seq2SeqBatch, Seq2SeqOutput, Seq2SeqLogits } from './nn/t5/seq2seq.js';
export { greedyGenerate, scoreCandidates } from './nn/t5/generate.js';
export type { GenerateOptions } from './nn/t5/generate.js';
export { prependPrompt } from './nn/prompt.js';
export type { PromptInput } from './nn/prompt.js';
export { addAdapters, addBiases, loadExtras } from './nn/t5/extras.js';

// --- Checkpoints and tokenizers -------------------------------------------------------------
export { loadHfCheckpoint, saveHfCheckpoint, CheckpointError } from './io/checkpoint.js';
export type { HfCheckpoint } from './io/checkpoint.js';
export { loadTokenizer } from './io/tokenizer/load.js';
export { T5Tokenizer } from './io/tokenizer/t5_tokenizer.js';
export { ByT5Tokenizer } from './io/tokenizer/byt5_tokenizer.js';
export type { Tokenizer } from './io/tokenizer/tokenizer.js';
