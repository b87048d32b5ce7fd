// The SentencePiece ModelProto (sentencepiece_model.proto): the fields that encoding and
// decoding with a unigram model depend on. Field numbers are the .proto's; anything else is skipped.
import { ProtoReader, WIRE_I32, WIRE_LEN, WIRE_VARINT } from './protobuf.js';

/** ModelProto.SentencePiece.Type values. */
export const PieceType = { NORMAL: 1, UNKNOWN: 2, CONTROL: 3, USER_DEFINED: 4, UNUSED: 5, BYTE: 6 } as const;
export type PieceType = (typeof PieceType)[keyof typeof PieceType];

/** One vocabulary entry; its index in `pieces` is its id. */
export interface SentencePiece {
  piece: string;
  /** The piece's UTF-8 bytes as stored (saves re-encoding 32k-250k pieces at load). */
  bytes: Uint8Array;
  score: number;
  type: PieceType;
}

/** The TrainerSpec fields that matter at inference. */
export interface TrainerSpec {
  /** 1 unigram, 2 BPE, 3 word, 4 char. */
  modelType: number;
  byteFallback: boolean;
  treatWhitespaceAsSuffix: boolean;
  unkId: number;
  bosId: number;
  eosId: number;
  padId: number;
  /** What DecodeIds prints for <unk>: " \u2047 " by default. */
  unkSurface: string;
}

/** NormalizerSpec, with the .proto defaults applied. */
export interface NormalizerSpec {
  name: string;
  precompiledCharsmap: Uint8Array;
  addDummyPrefix: boolean;
  removeExtraWhitespaces: boolean;
  escapeWhitespaces: boolean;
  /** Non-empty only for models trained with a custom rule file; precompiled charsmap covers it. */
  normalizationRuleTsv: string;
}

/** A parsed spiece.model. */
export interface SentencePieceModelProto {
  pieces: SentencePiece[];
  trainer: TrainerSpec;
  normalizer: NormalizerSpec;
  denormalizer: NormalizerSpec | null;
}

const utf8 = new TextDecoder();
const MODEL_TYPES: Record<number, string> = { 1: 'unigram', 2: 'bpe', 3: 'word', 4: 'char' };

function parsePiece(r: ProtoReader): SentencePiece {
  const p: SentencePiece = { piece: '', bytes: new Uint8Array(0), score: 0, type: PieceType.NORMAL };
  while (!r.eof()) {
    const { field, wire } = r.tag();
    if (field === 1 && wire === WIRE_LEN) {
      p.bytes = r.bytes();
      p.piece = utf8.decode(p.bytes);
    }
    else if (field === 2 && wire === WIRE_I32) p.score = r.float();
    else if (field === 3 && wire === WIRE_VARINT) p.type = r.varint() as PieceType;
    else r.skip(wire);
  }
  return p;
}

function parseTrainer(r: ProtoReader): TrainerSpec {
  // Defaults are the .proto's.
  const t: TrainerSpec = {
    modelType: 1, byteFallback: false, treatWhitespaceAsSuffix: false,
    unkId: 0, bosId: 1, eosId: 2, padId: -1, unkSurface: ' \u2047 ',
  };
  while (!r.eof()) {
    const { field, wire } = r.tag();
    if (wire === WIRE_VARINT) {
      const v = r.varint();
      switch (field) {
        case 3: t.modelType = v; break;
        case 24: t.treatWhitespaceAsSuffix = v !== 0; break;
        case 35: t.byteFallback = v !== 0; break;
        case 40: t.unkId = v; break;
        case 41: t.bosId = v; break;
        case 42: t.eosId = v; break;
        case 43: t.padId = v; break;
      }
    } else if (field === 44 && wire === WIRE_LEN) t.unkSurface = r.string();
    else r.skip(wire);
  }
  return t;
}

function parseNormalizer(r: ProtoReader): NormalizerSpec {
  const n: NormalizerSpec = {
    name: '', precompiledCharsmap: new Uint8Array(0), addDummyPrefix: true,
    removeExtraWhitespaces: true, escapeWhitespaces: true, normalizationRuleTsv: '',
  };
  while (!r.eof()) {
    const { field, wire } = r.tag();
    if (field === 1 && wire === WIRE_LEN) n.name = r.string();
    else if (field === 2 && wire === WIRE_LEN) n.precompiledCharsmap = r.bytes().slice();
    else if (field === 3 && wire === WIRE_VARINT) n.addDummyPrefix = r.varint() !== 0;
    else if (field === 4 && wire === WIRE_VARINT) n.removeExtraWhitespaces = r.varint() !== 0;
    else if (field === 5 && wire === WIRE_VARINT) n.escapeWhitespaces = r.varint() !== 0;
    else if (field === 6 && wire === WIRE_LEN) n.normalizationRuleTsv = r.string();
    else r.skip(wire);
  }
  return n;
}

/**
 * Parses a serialized ModelProto (the bytes of a spiece.model file) and checks what the
 * tokenizer relies on: a unigram model, unique non-empty pieces and exactly one <unk>.
 */
export function parseSentencePieceModel(bytes: Uint8Array, fileName = 'spiece.model'): SentencePieceModelProto {
  const r = new ProtoReader(bytes, 0, bytes.length, fileName);
  const pieces: SentencePiece[] = [];
  let trainer: TrainerSpec | null = null;
  let normalizer: NormalizerSpec | null = null;
  let denormalizer: NormalizerSpec | null = null;
  while (!r.eof()) {
    const { field, wire } = r.tag();
    if (wire !== WIRE_LEN) { r.skip(wire); continue; }
    if (field === 1) pieces.push(parsePiece(r.message(`${fileName} piece ${pieces.length}`)));
    else if (field === 2) trainer = parseTrainer(r.message(`${fileName} trainer_spec`));
    else if (field === 3) normalizer = parseNormalizer(r.message(`${fileName} normalizer_spec`));
    else if (field === 5) denormalizer = parseNormalizer(r.message(`${fileName} denormalizer_spec`));
    else r.skip(wire);
  }
  if (pieces.length === 0) throw new Error(`${fileName}: no pieces; is this a SentencePiece model?`);
  trainer ??= parseTrainer(new ProtoReader(new Uint8Array(0)));
  normalizer ??= parseNormalizer(new ProtoReader(new Uint8Array(0)));
  if (trainer.modelType !== 1) {
    throw new Error(`${fileName}: model type ${MODEL_TYPES[trainer.modelType] ?? trainer.modelType} is not supported (only unigram, which T5/mT5 use)`);
  }
  if (trainer.treatWhitespaceAsSuffix) throw new Error(`${fileName}: treat_whitespace_as_suffix is not supported`);
  const seen = new Set<string>();
  let unk = -1;
  pieces.forEach((p, i) => {
    if (p.piece === '') throw new Error(`${fileName}: piece ${i} is empty`);
    if (seen.has(p.piece)) throw new Error(`${fileName}: piece ${JSON.stringify(p.piece)} (id ${i}) is defined twice`);
    seen.add(p.piece);
    if (p.type < 1 || p.type > 6) throw new Error(`${fileName}: piece ${i} has unknown type ${p.type}`);
    if (p.type === PieceType.UNKNOWN) {
      if (unk >= 0) throw new Error(`${fileName}: two <unk> pieces (ids ${unk} and ${i})`);
      unk = i;
    }
    if (p.type === PieceType.BYTE && !trainer!.byteFallback) throw new Error(`${fileName}: byte piece ${i} but byte_fallback is off`);
  });
  if (unk < 0) throw new Error(`${fileName}: no <unk> piece`);
  if (denormalizer && denormalizer.precompiledCharsmap.length > 0) {
    throw new Error(`${fileName}: a denormalizer charsmap is not supported`);
  }
  return { pieces, trainer, normalizer, denormalizer };
}
