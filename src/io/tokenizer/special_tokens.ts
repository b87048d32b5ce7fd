// Splitting input text on special-token strings ("</s>", "<extra_id_3>", ...) the way HF's
// PreTrainedTokenizer.tokenize does before running the model tokenizer on the pieces in between.

export type TextPart = { text: string } | { id: number };

const SPECIAL = /<pad>|<\/s>|<unk>|<extra_id_(0|[1-9][0-9]*)>/g;

/**
 * Splits `text` into plain runs and special-token ids. `lookup` maps a token string to its id,
 * or null when it is not a special token of this tokenizer (e.g. <extra_id_150> with 100 extra ids),
 * in which case the string stays plain text.
 */
export function splitOnSpecialTokens(text: string, lookup: (token: string) => number | null): TextPart[] {
  const parts: TextPart[] = [];
  let last = 0;
  for (const m of text.matchAll(SPECIAL)) {
    const id = lookup(m[0]);
    if (id === null) continue;
    if (m.index! > last) parts.push({ text: text.slice(last, m.index) });
    parts.push({ id });
    last = m.index! + m[0].length;
  }
  if (last < text.length) parts.push({ text: text.slice(last) });
  return parts;
}

/** Appends eos unless the ids already end with it, as HF's _add_eos_if_not_present does. */
export function addEosIfAbsent(ids: number[], eosId: number): number[] {
  if (ids.length === 0 || ids[ids.length - 1] !== eosId) ids.push(eosId);
  return ids;
}
