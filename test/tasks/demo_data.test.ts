// The demo's real data from npm packages: counts, labels, formats, and errors for malformed files.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { emailText, loadSentiment, loadSpamAssassin } from '../../src/tasks/demo_data.js';
import { DataError } from '../../src/tasks/example.js';
import { formatExample } from '../../src/tasks/format.js';
import { loadTaskSource } from '../../src/tasks/load.js';

const t = suite('tasks: demo data');

t('sentiment@5.0.2: 3 x 1000 sentences, 500 per class, trailing empty entry dropped', () => {
  const all = loadSentiment();
  assert.is(all.length, 3000);
  assert.is(all.filter((e) => e.label === 1).length, 1500);
  for (const src of ['amazon', 'imdb', 'yelp'] as const) {
    const part = loadSentiment([src]);
    assert.is(part.length, 1000);
    assert.is(part.filter((e) => e.label === 0).length, 500);
  }
  assert.equal(all[0], { task: 'sentiment', id: 'amazon-0', fields: { review: 'So there is no way for me to plug it in here in the US unless I go by a converter.' }, label: 0 });
  assert.equal(formatExample(all[1]!, 't5'), { input: 'sentiment review: Good case, Excellent value.', target: 'positive' });
});

t('SpamAssassin: 6046 messages, 1896 spam, text within the budget', () => {
  const t0 = performance.now();
  const all = loadTaskSource('spam', 'all');
  assert.is(all.length, 6046);
  // easy-ham-1 2500 + easy-ham-2 1400 + hard-ham-1 250 = 4150 ham; spam-1 500 + spam-2 1396 = 1896.
  assert.is(all.filter((e) => e.label === 1).length, 1896);
  assert.is(all[0]!.id, 'easy-ham-1/00001');
  assert.ok(all.every((e) => e.fields.email!.length > 0 && e.fields.email!.length <= 1000));
  assert.ok(all[0]!.fields.email!.startsWith('Re: New Sequences Window |'), all[0]!.fields.email!.slice(0, 60));
  assert.ok(formatExample(all[0]!, 't5').input.startsWith('spam email: Re: New Sequences Window'));
  assert.ok(loadSpamAssassin({ maxChars: 200 }).every((e) => e.fields.email!.length <= 200));
  assert.ok(performance.now() - t0 < 15000, 'loads in seconds');
});

t('emailText keeps Subject and body, drops headers and tags, cuts at a word', () => {
  const raw = 'From: a@b.c\nSubject: Hello\n  again\nX-Spam: no\n\n<html><b>Buy</b>&nbsp;now\n\n friends</html>\n';
  assert.is(emailText(raw, 1000), 'Hello again | Buy now friends');
  assert.is(emailText(raw, 18), 'Hello again | Buy');
  assert.is(emailText('Subject: only headers\n', 100), 'only headers');
});

t('malformed demo files name the file and the entry', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bpt-demo-'));
  try {
    writeFileSync(join(dir, 'yelp.json'), JSON.stringify([{ text: 'Fine.', class: 1 }, { text: 'Meh.', class: 2 }, { text: '', class: null }]));
    assert.throws(() => loadSentiment(['yelp'], dir), (err: unknown) =>
      err instanceof DataError && err.message === `${join(dir, 'yelp.json')} at [1].class: unparsable label 2 (want 0 or 1)`);
    // The empty entry is accepted only as the last one.
    writeFileSync(join(dir, 'imdb.json'), JSON.stringify([{ text: '', class: null }, { text: 'Ok.', class: 1 }]));
    assert.throws(() => loadSentiment(['imdb'], dir), /imdb\.json at \[0\]\.text: missing or empty text/);
    writeFileSync(join(dir, 'file_list.json'), JSON.stringify(['easy-ham-1/1.txt', '../etc/passwd']));
    writeFileSync(join(dir, 'x.txt'), '');
    assert.throws(() => loadSpamAssassin({ dir }), /file_list\.json at \[1\]: unexpected entry/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

t.run();
