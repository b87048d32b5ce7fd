// scripts/gpu-run.sh, the one-call GPU run (docs/GPU_RUNS.md), dry-run here as CI would: the files
// the device tool would send, built and packed, then run against this machine's adapter with the
// suites' --quick shapes. One small suite keeps the check under a minute; the four suites of a GPU
// run take the same path.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { repoRoot } from '../util/child.js';
import { tempDir } from '../util/fixtures.js';

const t = suite('bench/gpu-run');
const script = join(repoRoot(), 'scripts', 'gpu-run.sh');
const json = (dir: string, file: string) => JSON.parse(readFileSync(join(dir, file), 'utf8')) as Record<string, unknown>;

t('dry run: a clean copy packs, reports the adapter and writes each suite\'s JSON, and nothing else, under $OUT', () => {
  const out = tempDir('gpu-run');
  try {
    const res = spawnSync('bash', [script, 'dry-run', '--quick', '--suites=fill'], { env: { ...process.env, OUT: out }, encoding: 'utf8', timeout: 120_000 });
    assert.is(res.status, 0, `${res.stderr}\n${res.stdout.slice(-3000)}`);
    const adapter = json(out, 'adapter.json');
    assert.type(adapter.description, 'string');
    const fill = json(out, 'fill.json');
    assert.equal(fill.adapter, adapter, 'the suite\'s JSON carries the adapter report');
    assert.ok((fill.rows as unknown[]).length > 0);
    const summary = json(out, 'summary.json') as { quick: boolean; suites: Array<{ suite: string; status: string }> };
    assert.is(summary.quick, true);
    assert.equal(summary.suites.map((s) => [s.suite, s.status]), [['fill', 'ok']]);
    assert.equal(readdirSync(out).sort(), ['adapter.json', 'fill.json', 'run.log', 'summary.json']);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

t('unknown flags and modes are refused', () => {
  const out = tempDir('gpu-run');
  try {
    const bad = spawnSync('bash', [script, 'run', '--fast'], { env: { ...process.env, OUT: out }, encoding: 'utf8' });
    assert.is(bad.status, 1);
    assert.match(bad.stderr, /unknown flag --fast/);
    assert.is(spawnSync('bash', [script, 'launch'], { encoding: 'utf8' }).status, 1);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

t.run();
