// bpt-webgpu/bpt: Bayesian Prompt Tuning and its baselines on T5, the GLUE / SuperGLUE tasks with
// their splits and metrics, and T5 pretraining. Each stage takes its options (as the CLI's config
// files and flags do) and writes a run directory: run.json, a JSONL log, checkpoints, PEFT adapters.
//
//   import { initGpu } from 'bpt-webgpu';
//   import { runSource, sourceOptions } from 'bpt-webgpu/bpt';
//   await initGpu();
//   await runSource(sourceOptions(null, { model: 'checkpoints/t5-base', 'data-dir': 'data', tasks: 'mnli,qnli', out: 'runs/src' }));
//
// The method and the choices it leaves open: docs/METHOD.md.

// --- The stages -------------------------------------------------------------------------------
/** Stage 1: M particle prompts trained with SVGD on the source tasks (or a source baseline). */
export { runSource } from './bpt/source.js';
/** Stage 2: the target prompt under the source prior (or a target baseline). */
export { runTarget } from './bpt/target.js';
/** Scores a model, prompt or adapter on a task's validation or test split. */
export { runEval } from './bpt/eval_stage.js';
export { sourceOptions, targetOptions, evalOptions, SOURCE_METHODS, TARGET_METHODS } from './bpt/options.js';
export type { SourceOptions, TargetOptions, EvalOptions } from './bpt/options.js';
/** Prompts as Hugging Face PEFT adapters (PROMPT_TUNING, MULTITASK_PROMPT_TUNING). */
export { saveAdapter, loadAdapter } from './bpt/peft.js';
export type { Adapter, PromptAdapter, MultitaskAdapter } from './bpt/peft.js';
export { ConfigError } from './train/config.js';

// --- Tasks: readers, text formats, splits, metrics ---------------------------------------------
export * as tasks from './tasks/index.js';

// --- Pretraining and reports ------------------------------------------------------------------
/** T5 span-corruption pretraining (T5's noise mask and sentinels) on text corpora. */
export { runPretrain } from './pretrain/pretrain.js';
export { pretrainOptions } from './pretrain/options.js';
export type { PretrainOptions } from './pretrain/options.js';
/** Writes a self-contained report.html for a run directory. */
export { writeRunReport } from './report/html.js';
