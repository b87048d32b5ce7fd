import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { chromeTrace, kernelFamily, writeChromeTrace, type KernelRecord } from '../../src/gpu/profiler.js';

const t = suite('profiler trace');

const FAMILIES = ['matmul.uniform', 't5_attention.forward_sg', 'elementwise.binary', 'fill'];
const synthetic = (n: number): KernelRecord[] =>
  Array.from({ length: n }, (_, i) => ({ label: `op ${i}`, kernel: FAMILIES[i % FAMILIES.length]!, startNs: 5e9 + i * 1000, durationNs: 500 + (i % 7) }));

t('a small trace: named process and threads, kernels grouped by family', () => {
  const records: KernelRecord[] = [
    { label: 'matmul f32[2,3]', kernel: 'matmul.uniform', startNs: 3000, durationNs: 2000 },
    { label: 'fill f32[4]', kernel: 'fill', startNs: 7000, durationNs: 500 },
  ];
  const trace = JSON.parse(chromeTrace(records, { process: 'suite t5', host: [{ name: 'record', startMs: 10, durationMs: 0.25 }] })) as unknown;
  assert.equal(trace, {
    displayTimeUnit: 'ms',
    traceEvents: [
      { name: 'process_name', ph: 'M', pid: 1, tid: 1, args: { name: 'suite t5' } },
      { name: 'thread_name', ph: 'M', pid: 1, tid: 1, args: { name: 'GPU queue' } },
      { name: 'thread_name', ph: 'M', pid: 1, tid: 2, args: { name: 'host recording' } },
      { name: 'matmul f32[2,3]', cat: 'matmul', ph: 'X', ts: 0, dur: 2, pid: 1, tid: 1, args: { kernel: 'matmul.uniform' } },
      { name: 'fill f32[4]', cat: 'fill', ph: 'X', ts: 4, dur: 0.5, pid: 1, tid: 1, args: { kernel: 'fill' } },
      { name: 'record', cat: 'host', ph: 'X', ts: 0, dur: 250, pid: 1, tid: 2 },
    ],
  });
});

t('no host spans: no host thread', () => {
  const trace = JSON.parse(chromeTrace([])) as { traceEvents: Array<{ name: string }> };
  assert.equal(trace.traceEvents.map((e) => e.name), ['process_name', 'thread_name']);
});

t('kernelFamily is the part before the first dot', () => {
  assert.equal(['matmul.uniform', 't5_attention.backward_scores_sg', 'fill'].map(kernelFamily), ['matmul', 't5_attention', 'fill']);
});

t('250k records stream to a file that parses, metadata first', () => {
  const dir = mkdtempSync(join(tmpdir(), 'trace-'));
  try {
    const n = 250_000;
    const path = join(dir, 'trace.json');
    writeChromeTrace(path, synthetic(n), { process: 'synthetic' });
    const trace = JSON.parse(readFileSync(path, 'utf8')) as { traceEvents: Array<{ ph: string; name: string; cat?: string; ts?: number; args?: { name?: string } }> };
    const ev = trace.traceEvents;
    assert.is(ev.length, n + 2);
    assert.equal(ev.slice(0, 2).map((e) => [e.ph, e.name, e.args?.name]), [['M', 'process_name', 'synthetic'], ['M', 'thread_name', 'GPU queue']]);
    assert.equal([ev[2]!.ts, ev[3]!.ts, ev[n + 1]!.ts], [0, 1, n - 1]);
    assert.equal(new Set(ev.slice(2).map((e) => e.cat)), new Set(['matmul', 't5_attention', 'elementwise', 'fill']));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

t.run();
