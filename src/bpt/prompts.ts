// The trainable prompt parameterisations every stage and baseline is built from:
//   StackPrompts:   M independent prompts [M, L, d]; row r of a batch uses prompt promptIndex[r]
//                   (BPT particles, SPoT's per-task prompts; M = 1 is plain prompt tuning).
//   LowRankPrompts: a shared P [L, d] and per-task factors U [T, L, r], V [T, r, d]:
//                   theta_t = P o (U_t V_t) (BPT's target, multi-target BPT, MPT).
// A module hands the model a PromptInput built with recorded ops from its parameters and the
// batch's tensors (nothing from the host, so a captured step can replay it), so one batched
// forward/backward serves every prompt of the batch, and gradients reach the parameters.
import type { PromptInput } from '../nn/prompt.js';
import { mul } from '../ops/elementwise.js';
import { fill } from '../ops/fill.js';
import { keep } from '../tensor/scope.js';
import type { Tensor } from '../tensor/tensor.js';
import type { PromptBatch } from '../train/data.js';
import { toHost } from '../train/host.js';
import type { ParamGroupDef } from '../train/optimizers.js';
import type { Adapter } from './peft.js';
import { sum } from '../ops/sum.js';
import { reshape } from '../ops/reshape.js';

/** Learning rates of the full-rank part and of the low-rank factors. */
export interface PromptLrs {
  p: number;
  lowRank: number;
}

/** A trainable soft-prompt parameterisation. */
export interface PromptModule {
  readonly promptLength: number;
  readonly dModel: number;
  /** Optimizer groups of the trainable tensors. */
  groups(lr: PromptLrs): ParamGroupDef[];
  /** Trainable tensors by name (checkpoints, best-so-far copies). */
  named(): Map<string, Tensor>;
  /**
   * How many prompts a row's prompt index chooses from (collate checks the indices against it), or
   * null when the prompt does not read the index (one prompt for every row, or one made per row).
   */
  readonly promptCount: number | null;
  /** The prompt of each row of a batch, as fresh handles made by recorded ops. */
  prompt(batch: PromptBatch): PromptInput;
  /** Every prompt as a stack [T, L, d] (the prior's theta). */
  thetas(): Tensor;
  /** The full-rank part [L, d] or [M, L, d] (the prior's P). */
  base(): Tensor;
  /** The PEFT adapter of the current values; `tasks` names the prompts of a stack. */
  toAdapter(tasks: readonly string[]): Promise<Adapter>;
  dispose(): void;
}

/** M prompts [M, L, d]; rows pick theirs by the batch's prompt index. */
export class StackPrompts implements PromptModule {
  readonly stack: Tensor;

  /** Takes ownership of `stack` [M, L, d]. */
  constructor(stack: Tensor) {
    if (stack.rank !== 3) throw new Error(`StackPrompts: expected [M, L, d], got ${stack.describe()}`);
    this.stack = keep(stack);
    this.stack.name = 'prompts';
  }

  get count(): number {
    return this.stack.shape[0]!;
  }

  get promptCount(): number | null {
    return this.count === 1 ? null : this.count;
  }

  get promptLength(): number {
    return this.stack.shape[1]!;
  }

  get dModel(): number {
    return this.stack.shape[2]!;
  }

  groups(lr: PromptLrs): ParamGroupDef[] {
    return [{ name: 'prompts', params: [this.stack], lr: lr.p }];
  }

  named(): Map<string, Tensor> {
    return new Map([['prompts', this.stack]]);
  }

  prompt(batch: PromptBatch): PromptInput {
    if (this.count === 1) return reshape(this.stack, [this.promptLength, this.dModel]);
    return { stack: reshape(this.stack, this.stack.shape), index: batch.promptIndex };
  }

  thetas(): Tensor {
    return reshape(this.stack, this.stack.shape);
  }

  base(): Tensor {
    return this.thetas();
  }

  async toAdapter(): Promise<Adapter> {
    if (this.count !== 1) throw new Error(`StackPrompts: ${this.count} prompts make ${this.count} adapters, one per prompt; save them one by one`);
    const m = await toHost(this.stack);
    return { kind: 'prompt', prompt: { data: m.data, shape: [this.promptLength, this.dModel] } };
  }

  dispose(): void {
    this.stack.dispose();
  }
}

/** theta_t = P o (U_t V_t) with P [L, d], U [T, L, r], V [T, r, d]. */
export class LowRankPrompts implements PromptModule {
  readonly P: Tensor;
  readonly U: Tensor;
  readonly V: Tensor;

  /** Takes ownership of P; U and V start at ones (theta_t = P at initialisation) unless given. */
  constructor(P: Tensor, tasks: number, rank: number, factors?: { U: Tensor; V: Tensor }) {
    if (P.rank !== 2) throw new Error(`LowRankPrompts: P must be [L, d], got ${P.describe()}`);
    const [l, d] = P.shape as [number, number];
    this.P = keep(P);
    this.U = keep(factors?.U ?? fill([tasks, l, rank], 1));
    this.V = keep(factors?.V ?? fill([tasks, rank, d], 1));
    this.P.name = 'P';
    this.U.name = 'U';
    this.V.name = 'V';
  }

  get tasks(): number {
    return this.U.shape[0]!;
  }

  get promptCount(): number | null {
    return this.tasks === 1 ? null : this.tasks;
  }

  get rank(): number {
    return this.U.shape[2]!;
  }

  get promptLength(): number {
    return this.P.shape[0]!;
  }

  get dModel(): number {
    return this.P.shape[1]!;
  }

  groups(lr: PromptLrs): ParamGroupDef[] {
    return [
      { name: 'P', params: [this.P], lr: lr.p },
      { name: 'UV', params: [this.U, this.V], lr: lr.lowRank },
    ];
  }

  named(): Map<string, Tensor> {
    return new Map([['P', this.P], ['U', this.U], ['V', this.V]]);
  }

  /** [T, L, d]: the low-rank product as a broadcast multiply summed over r (no matmul needed for small r). */
  thetas(): Tensor {
    const [t, l, r] = this.U.shape as [number, number, number];
    const d = this.dModel;
    const uv = sum(mul(reshape(this.U, [t, l, r, 1]), reshape(this.V, [t, 1, r, d])), 2);
    return mul(reshape(this.P, [1, l, d]), uv);
  }

  prompt(batch: PromptBatch): PromptInput {
    if (this.tasks === 1) return reshape(this.thetas(), [this.promptLength, this.dModel]);
    return { stack: this.thetas(), index: batch.promptIndex };
  }

  base(): Tensor {
    return reshape(this.P, this.P.shape);
  }

  async toAdapter(tasks: readonly string[]): Promise<Adapter> {
    if (tasks.length !== this.tasks) throw new Error(`LowRankPrompts: ${tasks.length} task names for ${this.tasks} tasks`);
    return { kind: 'multitask', prompt: await toHost(this.P), cols: await toHost(this.U), rows: await toHost(this.V), tasks: [...tasks] };
  }

  dispose(): void {
    this.P.dispose();
    this.U.dispose();
    this.V.dispose();
  }
}
