// `bpt eval`: scores a model with a prompt on a split of some tasks. The prompt comes from a PEFT
// adapter directory (PROMPT_TUNING: one prompt for every task; MULTITASK_PROMPT_TUNING: each task
// its own, looked up by name), a target run directory (its adapter, its ATTEMPT file, or its
// fine-tuned model) or a source run directory (its mean prompt). Results go to one JSON file,
// predictions beside it, both atomically; both locations are checked before the model is loaded.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../io/atomic.js';
import { toFiniteFloat32 } from '../io/dtype.js';
import { checkOutputFile } from '../io/outputs.js';
import { readSafetensors } from '../io/safetensors.js';
import { loadExtras } from '../nn/t5/extras.js';
import type { EvalResult } from '../tasks/index.js';
import { encodeExamples, type Encoded } from '../train/data.js';
import { loadTaskData } from '../train/datasets.js';
import { Evaluator, type PromptFor } from '../train/eval.js';
import { upload } from '../train/host.js';
import { loadModel, releaseModel, type LoadedModel } from '../train/model.js';
import { Progress } from '../train/progress.js';
import { readRun, RUN_FILE } from '../train/run.js';
import { loadAttempt } from './baselines/attempt.js';
import type { EvalOptions } from './options.js';
import { ADAPTER_CONFIG, loadAdapter, type Adapter } from './peft.js';
import { LowRankPrompts, StackPrompts, type PromptModule } from './prompts.js';
import { SOURCE_FILES } from './source.js';
import { EXTRAS_FILE } from './target.js';

/** Where the prompt (or the model) to evaluate lives. */
type PromptSource =
  | { kind: 'none'; model: string }
  | { kind: 'adapter'; dir: string; model: string }
  | { kind: 'attempt'; file: string; model: string }
  | { kind: 'extras'; file: string; model: string };

/** Resolves `--adapter` (a PEFT directory or a target run directory) and the model it goes with. */
export function resolvePromptSource(adapter: string | null, model: string): PromptSource {
  if (adapter === null) return { kind: 'none', model };
  if (existsSync(join(adapter, ADAPTER_CONFIG))) return { kind: 'adapter', dir: adapter, model };
  if (!existsSync(join(adapter, RUN_FILE))) throw new Error(`${adapter}: neither a PEFT adapter (${ADAPTER_CONFIG}) nor a bpt run (${RUN_FILE})`);
  const run = readRun(adapter);
  if (run.stage === 'source') return { kind: 'adapter', dir: join(adapter, SOURCE_FILES.mean), model };
  if (run.method === 'finetune') return { kind: 'none', model: join(adapter, 'model') };
  if (run.method === 'adapter' || run.method === 'bitfit') return { kind: 'extras', file: join(adapter, EXTRAS_FILE), model };
  if (run.method === 'attempt') return { kind: 'attempt', file: join(adapter, 'attempt.safetensors'), model };
  return { kind: 'adapter', dir: join(adapter, 'adapter'), model };
}

/** A prompt module for an adapter, and the prompt index of each task key. */
function adapterModule(a: Adapter, tasks: readonly string[], dir: string): { module: PromptModule; index: number[] } {
  if (a.kind === 'prompt') {
    const [l, d] = a.prompt.shape as [number, number];
    return { module: new StackPrompts(upload({ data: a.prompt.data, shape: [1, l, d] })), index: tasks.map(() => 0) };
  }
  const index = tasks.map((t) => {
    const i = a.tasks.indexOf(t);
    if (i < 0) throw new Error(`${dir}: the multitask adapter has no prompt for task '${t}' (it has: ${a.tasks.join(', ')})`);
    return i;
  });
  const module = new LowRankPrompts(upload(a.prompt), a.tasks.length, a.cols.shape[2]!, { U: upload(a.cols), V: upload(a.rows) });
  return { module, index };
}

function buildPrompt(src: PromptSource, lm: LoadedModel, tasks: readonly string[]): { module: PromptModule | null; index: number[] } {
  if (src.kind === 'none') return { module: null, index: tasks.map(() => 0) };
  if (src.kind === 'attempt') return { module: loadAttempt(src.file, lm.model), index: tasks.map(() => 0) };
  if (src.kind === 'extras') {
    const { tensors } = readSafetensors(src.file);
    loadExtras(lm.model, new Map([...tensors].map(([k, t]) => [k, { data: toFiniteFloat32(t, `${src.file}: tensor "${k}"`), shape: t.shape }])));
    return { module: null, index: tasks.map(() => 0) };
  }
  return adapterModule(loadAdapter(src.dir, lm.model.config.d_model), tasks, src.dir);
}

/** What `bpt eval` wrote to `out`: the scores per task and their average. */
export interface EvalOutcome {
  out: string;
  split: EvalOptions['split'];
  average: number;
  tasks: Record<string, EvalResult & { mode: string }>;
}

/** Runs `bpt eval`. */
export async function runEval(o: EvalOptions): Promise<EvalOutcome> {
  const predictionsPath = o.out.replace(/(\.json)?$/, '.predictions.jsonl');
  checkOutputFile(o.out);
  checkOutputFile(predictionsPath);
  const src = resolvePromptSource(o.adapter, o.model);
  const data = o.tasks.map((key) => loadTaskData(key, { dataDir: o.dataDir, splitSeed: o.splitSeed, maxTrain: null, maxEval: o.maxEval, evalOnly: true }));
  const lm = loadModel(src.model, o.tokenizer);
  let module: PromptModule | null = null;
  try {
    const built = buildPrompt(src, lm, o.tasks);
    module = built.module;
    const m = module;
    const prompt: PromptFor = (batch) => (m ? m.prompt(batch) : undefined);
    const enc = { format: o.format, maxInputLength: o.maxInputLength, maxTargetLength: o.maxTargetLength };
    const rows: Encoded[][] = data.map((d, k) => encodeExamples(lm.tokenizer, d[o.split], built.index[k]!, enc));
    const total = rows.reduce((a, r) => a + r.length, 0);
    const progress = new Progress(`eval ${o.split}`, total, o.progress);
    const results: Record<string, EvalResult & { mode: string }> = {};
    const lines: string[] = [];
    let done = 0;
    const ev = new Evaluator(lm.model, lm.tokenizer, {
      mode: o.evalMode, batchSize: o.evalBatchSize, maxNewTokens: o.maxNewTokens, maxTargetLength: o.maxTargetLength,
      format: o.format, padMultiple: o.padMultiple,
    }, prompt);
    try {
      for (let k = 0; k < rows.length; k++) {
        const e = await ev.evaluate(rows[k]!, (n) => progress.update(done + n));
        done += rows[k]!.length;
        results[o.tasks[k]!] = { ...e.result, mode: e.mode };
        progress.log(`${o.tasks[k]}: ${e.result.score.toFixed(2)} (${Object.entries(e.result.metrics).map(([n, v]) => `${n} ${v!.toFixed(2)}`).join(', ')}; ${e.result.invalid} invalid)`);
        e.predictions.forEach((p, i) => lines.push(`${JSON.stringify({ task: o.tasks[k], id: rows[k]![i]!.example.id, prediction: p, label: rows[k]![i]!.example.label })}\n`));
      }
    } finally {
      ev.dispose();
      progress.stop();
    }
    const scores = Object.values(results).map((r) => r.score);
    const doc = {
      split: o.split,
      model: src.model,
      adapter: o.adapter,
      prompt: src.kind,
      average: scores.reduce((a, b) => a + b, 0) / scores.length,
      tasks: results,
      options: o,
    };
    writeFileAtomic(o.out, [`${JSON.stringify(doc, null, 2)}\n`]);
    writeFileAtomic(predictionsPath, lines);
    return { out: o.out, split: o.split, average: doc.average, tasks: results };
  } finally {
    module?.dispose();
    releaseModel(lm);
  }
}
