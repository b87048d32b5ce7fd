// `bpt demo --quick` end to end through the CLI on the embedded model: every stage runs on the
// real npm data, the table is printed with its four methods and timings, results.json and a
// self-contained report.html are written; a second call with --resume reuses every stage, and an
// occupied --out without --resume is refused.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { tempDir } from '../util/fixtures.js';

const t = suite('demo/quick');
const CLI = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'cli.js');
let root: string;
t.before(() => {
  root = tempDir('demo');
});
t.after(() => rmSync(root, { recursive: true, force: true }));

function bpt(...args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp' } });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

t('bpt demo --quick prints the table and writes the report', () => {
  const out = join(root, 'demo');
  const r = bpt('demo', '--quick', '--out', out, '--progress', 'lines');
  assert.is(r.code, 0, r.err);
  assert.match(r.err, /demo \[1\/6\] source-vanilla/);
  assert.match(r.out, /test acc\. \(mean ± sd\)/);
  for (const m of ['PT (from scratch)', 'Vanilla transfer', 'BPT ', 'BPT multi-target']) assert.ok(r.out.includes(m), `row ${m}`);
  assert.match(r.out, /total wall time \d+/);
  const result = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as { rows: Array<{ scores: number[] }> };
  assert.is(result.rows.length, 4);
  assert.ok(result.rows.every((row) => row.scores.length === 1 && row.scores[0]! >= 0 && row.scores[0]! <= 100));
  const html = readFileSync(join(out, 'report.html'), 'utf8');
  assert.ok(html.includes('SVGD bandwidth h') && html.includes('Target stage: BPT multi-target'));
  assert.not.match(html, /https?:|<script/);

  const again = bpt('demo', '--quick', '--out', out, '--resume', '--progress', 'lines');
  assert.is(again.code, 0, again.err);
  assert.is((again.err.match(/\(done, reused\)/g) ?? []).length, 6);
  const refused = bpt('demo', '--quick', '--out', out);
  assert.is(refused.code, 1);
  assert.match(refused.err, /is not empty: pass --resume/);
  assert.ok(existsSync(join(out, 'configs', 'target-bpt-multi-seed1.json')));
});

t.run();
