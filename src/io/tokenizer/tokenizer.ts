// The tokenizer interface shared by the T5 SentencePiece and ByT5 byte tokenizers. Ids follow
// Hugging Face's tokenizers for the same checkpoint, since the model weights are indexed by them.

/** Options of Tokenizer.encode. */
export interface EncodeOptions {
  /** Append </s> (HF's build_inputs_with_special_tokens), unless the ids already end with it. Default true. */
  addEos?: boolean;
  /**
   * Recognize special-token text such as "<extra_id_0>" or "</s>" in the input and map it to its
   * id, as HF does by default. Default true; false treats such text as ordinary characters.
   */
  specialTokens?: boolean;
}

/** Options of Tokenizer.decode. */
export interface DecodeOptions {
  /** Drop pad, eos, unk and sentinel ids (HF's skip_special_tokens). Default false. */
  skipSpecial?: boolean;
}

/** Text <-> ids for a T5-family model; pad 0, eos 1 in every T5 vocabulary. */
export interface Tokenizer {
  encode(text: string, opts?: EncodeOptions): number[];
  decode(ids: readonly number[], opts?: DecodeOptions): string;
  /** Number of ids the tokenizer can produce (the model's embedding may be padded beyond it). */
  readonly vocabSize: number;
  readonly padId: number;
  readonly eosId: number;
  readonly unkId: number;
  /** Id of the sentinel <extra_id_n>. */
  sentinel(n: number): number;
}
