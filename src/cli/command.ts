// The shape of a `bpt` subcommand. Its options are a schema (src/train/config.ts): the one
// declaration of each option's flag, config-file key, type, default, help and validation, from
// which src/cli/program.ts makes the CLI library's options and --help.
import type { Schema } from '../train/config.js';

/** What a command is run with. */
export interface CommandInput {
  /** The flags given, keyed by flag name without the dashes, as typed (booleans as true/false). */
  flags: Record<string, string | boolean>;
  /** --config FILE, for commands that take one. */
  configFile: string | null;
  /** --resume, for commands that take it. */
  resume: boolean;
  /** The positional arguments, in the order `args` declares them. */
  args: string[];
}

/** What a command reports on stdout: `summary` for people, or `result` as one JSON object with --json. */
export interface Outcome {
  summary: string;
  result: Record<string, unknown>;
}

export interface Command {
  name: string;
  /** One line for `bpt --help`, and the description in `bpt help <command>`. */
  summary: string;
  /** Required positional arguments: name (as shown in usage) and help. */
  args?: ReadonlyArray<{ name: string; help: string }>;
  /** The command's options. */
  schema: Schema;
  /** Takes --config FILE: a JSON object of the schema's fields, which flags override. */
  config?: boolean;
  /** Takes --resume (runs that checkpoint). */
  resume?: boolean;
  /** Needs the WebGPU device (default true); commands that only read and write files skip starting it. */
  gpu?: boolean;
  run(input: CommandInput): Promise<Outcome>;
}

/** The summary of a training run that stopped before its last step (the loop said why on stderr). */
export function stoppedOutcome(out: string): Outcome {
  return { summary: `${out}: stopped before the last step; continue with --resume`, result: { status: 'stopped', out } };
}

/** Scores per task and their average on one line: `rte 71.12 | mrpc 80.00 | average 75.56`. */
export function formatScores(tasks: Record<string, { score: number }>, average: number): string {
  return [...Object.entries(tasks).map(([t, r]) => `${t} ${r.score.toFixed(2)}`), `average ${average.toFixed(2)}`].join(' | ');
}
