// scripts/gpu-run.sh, the one-call GPU run (docs/GPU_RUNS.md), dry-run here as CI would: the files
// the device tool would send, built and packed, then run against this machine's adapter with the
// suites' --quick shapes. One small suite keeps the check under a minute; the four suites of a GPU
// run take the same path.
import { spawnSync } from 'node:child_process';
import { copyFileSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
    const res = spawnSync('bash', [script, 'dry-run', '--quick', '--suites=fill'], { env: { ...process.env, OUT: out }, encoding: 'utf8', timeout: 240_000 });
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
    const refused = (args: string[], message: RegExp): void => {
      const bad = spawnSync('bash', [script, ...args], { env: { ...process.env, OUT: out }, encoding: 'utf8' });
      assert.is(bad.status, 1, args.join(' '));
      assert.match(bad.stderr, message);
    };
    refused(['run', '--fast'], /unknown flag --fast/);
    refused(['launch'], /usage/);
    refused(['pretrain', '--quick'], /unknown flag --quick \(pretrain and dry-run-pretrain take --minutes=N\)/);
    for (const m of ['0', '0.0', 'six', '-1', '1e3', '']) refused(['dry-run-pretrain', `--minutes=${m}`], /--minutes takes a number of minutes > 0/);
    refused(['adopt'], /usage: scripts\/gpu-run.sh adopt DIR/);
    refused(['adopt', out], /has no checkpoint.safetensors/);
    assert.equal(readdirSync(out), [], 'nothing was written');
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

t('adopt takes only files whose log continues the committed run state, and copies nothing otherwise', () => {
  const dir = tempDir('gpu-run');
  try {
    // A pretraining call's files, but from a run that forked: its log does not begin with the state's.
    for (const f of ['checkpoint.safetensors', 'run.json']) copyFileSync(join(repoRoot(), 'models', 't5-8k-state', f), join(dir, f));
    const state = readFileSync(join(repoRoot(), 'models', 't5-8k-state', 'log.jsonl'), 'utf8');
    writeFileSync(join(dir, 'log.jsonl'), state.replace(/"loss":\d/, '"loss":9'));
    const files = () => ['checkpoint.safetensors', 'run.json', 'log.jsonl'].map((f) => readFileSync(join(repoRoot(), 'models', 't5-8k-state', f)));
    const before = files();
    const res = spawnSync('bash', [script, 'adopt', dir], { encoding: 'utf8' });
    assert.is(res.status, 1);
    assert.match(res.stderr, /log.jsonl does not begin with models\/t5-8k-state\/log.jsonl: it does not continue models\/t5-8k-state/);
    assert.ok(files().every((b, i) => b.equals(before[i]!)), 'the state is untouched');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

t.run();
