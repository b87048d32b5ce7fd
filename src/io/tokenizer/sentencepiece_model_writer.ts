// Serialises a SentencePiece ModelProto (the bytes of a spiece.model) that the sentencepiece
// library, Hugging Face's T5Tokenizer and T5TokenizerFast, and parseSentencePieceModel load.
// Field numbers are sentencepiece_model.proto's. Fields whose .proto default differs from the
// value (T5's ids: pad 0, eos 1, unk 2, bos -1) are always written, never left to the default.
import { ProtoWriter } from './protobuf_writer.js';
import type { NormalizerSpec, SentencePieceModelProto } from './sentencepiece_model.js';

/** Training settings recorded in trainer_spec, for the record (nothing reads them to encode). */
export interface TrainingRecord {
  characterCoverage: number;
  maxPieceLength: number;
  seedSize: number;
  shrinkingFactor: number;
  subIterations: number;
}

function normalizerSpec(n: NormalizerSpec): ProtoWriter {
  const w = new ProtoWriter().string(1, n.name);
  if (n.precompiledCharsmap.length > 0) w.bytes(2, n.precompiledCharsmap);
  w.varint(3, n.addDummyPrefix).varint(4, n.removeExtraWhitespaces).varint(5, n.escapeWhitespaces);
  if (n.normalizationRuleTsv !== '') w.string(6, n.normalizationRuleTsv);
  return w;
}

/** The serialized ModelProto of `model`; vocab_size is the number of pieces. */
export function serializeSentencePieceModel(model: SentencePieceModelProto, training?: TrainingRecord): Uint8Array {
  const out = new ProtoWriter();
  for (const p of model.pieces) {
    out.message(1, new ProtoWriter().bytes(1, p.bytes).float(2, p.score).varint(3, p.type));
  }
  const t = model.trainer;
  const trainer = new ProtoWriter().varint(3, t.modelType).varint(4, model.pieces.length);
  if (training) {
    trainer.float(10, training.characterCoverage).varint(14, training.seedSize).float(15, training.shrinkingFactor)
      .varint(17, training.subIterations).varint(20, training.maxPieceLength);
  }
  trainer.varint(24, t.treatWhitespaceAsSuffix).varint(35, t.byteFallback)
    .varint(40, t.unkId).varint(41, t.bosId).varint(42, t.eosId).varint(43, t.padId).string(44, t.unkSurface);
  out.message(2, trainer).message(3, normalizerSpec(model.normalizer));
  if (model.denormalizer) out.message(5, normalizerSpec(model.denormalizer));
  return out.finish();
}
