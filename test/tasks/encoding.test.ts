// Data files must be UTF-8: an invalid byte is an error naming file:line (and the byte in the line),
// never a silent U+FFFD, in the GLUE TSV, SuperGLUE JSONL and SQuAD readers and in pretraining corpora.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readCorpus } from '../../src/pretrain/corpus.js';
import { readGlueTsv } from '../../src/tasks/glue.js';
import { readSquad } from '../../src/tasks/squad.js';
import { readSuperGlueJsonl } from '../../src/tasks/superglue.js';
import { decodeUtf8, readTextFile } from '../../src/util/text.js';
import { tempDir } from '../util/fixtures.js';
import { throwsWith } from '../util/throws.js';

const t = suite('tasks: text encoding');
let dir: string;
t.before(() => void (dir = tempDir('utf8')));
t.after(() => rmSync(dir, { recursive: true, force: true }));

const bytes = (...parts: Array<string | number[]>): Uint8Array =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : Buffer.from(p))));

function file(name: string, content: Uint8Array): string {
  const p = join(dir, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(p, content);
  return p;
}

t('valid UTF-8 (multi-byte, BOM kept) decodes as before', () => {
  const text = '\uFEFFcafé ∑ 😀\nzwei\n';
  assert.is(decodeUtf8(bytes(text), 'x'), text);
});

t('each kind of invalid sequence is found at its line and byte', () => {
  const cases: Array<[Uint8Array, number, number]> = [
    [bytes('ok\nab', [0xff], 'c\n'), 2, 3], // a byte that never occurs in UTF-8
    [bytes('a\nb\n\u00e9', [0x80], '\n'), 3, 3], // a stray continuation byte after a complete é
    [bytes('line one\nx', [0xc3], 'y\n'), 2, 2], // a lead byte cut short by ASCII
    [bytes('é\n', [0xe2, 0x82]), 2, 1], // the file ends inside a sequence
    [bytes('ab', [0xc0, 0xaf]), 1, 3], // an overlong encoding of '/'
    [bytes('q\n\n', [0xed, 0xa0, 0x80]), 3, 1], // a UTF-16 surrogate
    [bytes('Latin-1: caf', [0xe9], '\n'), 1, 13], // what a Latin-1 file looks like
  ];
  for (const [b, line, col] of cases) throwsWith(() => decodeUtf8(b, 'data.tsv'), `data.tsv:${line}: invalid UTF-8 at byte ${col} of the line`);
});

t('GLUE TSV, SuperGLUE JSONL, SQuAD JSON and a text corpus with a Latin-1 byte fail naming file:line', () => {
  const tsv = file('train.tsv', bytes('index\tsentence1\tsentence2\tlabel\n0\ta\tb\tentailment\n1\tcaf', [0xe9], '\tb\tentailment\n'));
  throwsWith(() => readGlueTsv('rte', tsv), `${tsv}:3: invalid UTF-8`);
  const jsonl = file('train.jsonl', bytes('{"premise": "a", "hypothesis": "b", "label": "entailment", "idx": 0}\n{"premise": "', [0xff], '", "hypothesis": "b", "label": "entailment", "idx": 1}\n'));
  throwsWith(() => readSuperGlueJsonl('superglue-cb', jsonl), `${jsonl}:2: invalid UTF-8`);
  const squad = file('dev.json', bytes('{"data": [\n{"title": "', [0xc3], '"}]}\n'));
  throwsWith(() => readSquad(squad), `${squad}:2: invalid UTF-8`);
  const corpus = file('corpus.txt', bytes('first paragraph\n\nsecond ', [0xa9], ' paragraph\n'));
  throwsWith(() => readCorpus(corpus), `${corpus}:3: invalid UTF-8`);
});

t('a data file that cannot be read names the file and the cause', () => {
  throwsWith(() => readTextFile(join(dir, 'absent.tsv')), join(dir, 'absent.tsv'), 'cannot read', 'no such file or directory');
  throwsWith(() => readTextFile(dir), dir, 'it is a directory');
});

t.run();
