// WordNet's data files (wndb(5WN)): one synset a line, "offset lex_filenum ss_type w_cnt word
// lex_id ... p_cnt pointer... | gloss". Read once into records that the pretraining text (glosses)
// and the supervised tasks (topic, reverse dictionary, similar/opposite words) share.

/** lexnames(5WN): the lexicographer file of each lex_filenum, WordNet's coarse topic of a synset. */
export const LEXNAMES = [
  'adj.all', 'adj.pert', 'adv.all', 'noun.Tops', 'noun.act', 'noun.animal', 'noun.artifact', 'noun.attribute', 'noun.body',
  'noun.cognition', 'noun.communication', 'noun.event', 'noun.feeling', 'noun.food', 'noun.group', 'noun.location', 'noun.motive',
  'noun.object', 'noun.person', 'noun.phenomenon', 'noun.plant', 'noun.possession', 'noun.process', 'noun.quantity', 'noun.relation',
  'noun.shape', 'noun.state', 'noun.substance', 'noun.time', 'verb.body', 'verb.change', 'verb.cognition', 'verb.communication',
  'verb.competition', 'verb.consumption', 'verb.contact', 'verb.creation', 'verb.emotion', 'verb.motion', 'verb.perception',
  'verb.possession', 'verb.social', 'verb.stative', 'verb.weather', 'adj.ppl',
] as const;

/** A pointer from a synset (or one of its words) to another synset (or word). */
export interface Pointer {
  /** WordNet's pointer symbol: '!' antonym, '&' similar to, '@' hypernym, ... */
  symbol: string;
  /** Target synset as "pos:offset" (satellites count as 'a'). */
  target: string;
  /** Source and target word numbers (1-based); 0 for a pointer between whole synsets. */
  sourceWord: number;
  targetWord: number;
}

export interface Synset {
  /** "pos:offset", unique across the four files. */
  key: string;
  /** 'n', 'v', 'a' (head adjective), 's' (satellite adjective) or 'r'. */
  type: string;
  lexname: string;
  /** Lemmas with underscores as spaces and adjective markers like "(a)" removed. */
  lemmas: string[];
  pointers: Pointer[];
  /** The definition: the gloss up to its first quoted example. */
  definition: string;
  /** The whole gloss (definition and examples). */
  gloss: string;
}

const filePos = (type: string): string => (type === 's' ? 'a' : type);

/** Synsets of one data file; licence header lines (two leading spaces) are skipped. */
export function parseWordnetData(text: string, file = 'data'): Synset[] {
  const out: Synset[] = [];
  text.split('\n').forEach((line, i) => {
    if (line === '' || line.startsWith('  ')) return;
    const bad = (): Error => new Error(`${file}:${i + 1}: not a WordNet synset line`);
    const bar = line.indexOf(' | ');
    if (bar < 0) throw bad();
    const f = line.slice(0, bar).split(' ');
    const count = Number.parseInt(f[3] ?? '', 16);
    const lexnum = Number(f[1]);
    if (!Number.isInteger(count) || count < 1 || LEXNAMES[lexnum] === undefined || f.length < 5 + 2 * count) throw bad();
    const lemmas = Array.from({ length: count }, (_, k) => f[4 + 2 * k]!.replace(/\(.*\)$/, '').replace(/_/g, ' '));
    let at = 4 + 2 * count;
    const pcount = Number(f[at++]);
    if (!Number.isInteger(pcount)) throw bad();
    const pointers: Pointer[] = [];
    for (let p = 0; p < pcount; p++, at += 4) {
      const [symbol, offset, pos, words] = [f[at], f[at + 1], f[at + 2], f[at + 3]];
      if (symbol === undefined || offset === undefined || pos === undefined || words === undefined || words.length !== 4) throw bad();
      pointers.push({ symbol, target: `${filePos(pos)}:${offset}`, sourceWord: Number.parseInt(words.slice(0, 2), 16), targetWord: Number.parseInt(words.slice(2), 16) });
    }
    const gloss = line.slice(bar + 3).trim();
    const quote = gloss.search(/;?\s*"/);
    out.push({
      key: `${filePos(f[2]!)}:${f[0]}`, type: f[2]!, lexname: LEXNAMES[lexnum]!, lemmas, pointers,
      definition: (quote < 0 ? gloss : gloss.slice(0, quote)).trim(), gloss,
    });
  });
  return out;
}

/** The pretraining text of a synset: "lemma, lemma: gloss". */
export const synsetText = (s: Synset): string => `${s.lemmas.join(', ')}: ${s.gloss}`;
