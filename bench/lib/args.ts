// The flags of every suite, parsed in one place: each suite declares its own flags, and gets the
// common ones (--quick, --trace=FILE, --out=FILE, --help) with them. Parsing is strict: a flag the
// suite does not declare, or a stray word, ends the suite with exit code 2 and its flag list.
// `--describe-flags` prints the declared flags as JSON and exits: the runner (bench/run.ts) asks
// each suite for them and passes on only the flags a suite declares.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { setOutputs } from './harness.js';

/** One flag of a suite. */
export interface FlagSpec {
  type: 'string' | 'boolean';
  default?: string | boolean;
  /** Shown by --help and on an unknown flag, e.g. 'rows of the logits (default 64)'. */
  help: string;
  /** The value's placeholder in the flag list (string flags; default N). */
  arg?: string;
}

const COMMON = {
  quick: { type: 'boolean', default: false, help: 'small sizes and few iterations, for a check in seconds' },
  trace: { type: 'string', arg: 'FILE', help: 'a Chrome / Perfetto trace of every profiled iteration' },
  out: { type: 'string', arg: 'FILE', help: 'the results JSON (default $BPT_BENCH_OUT or bench-results/, as <suite>-<date>.json)' },
  help: { type: 'boolean', default: false, help: 'print the flags and exit' },
} as const satisfies Record<string, FlagSpec>;

type Value<F> = F extends { type: 'boolean' } ? boolean : F extends { default: string } ? string : string | undefined;
/** The parsed values of a suite's flags and the common ones. */
export type SuiteArgs<O extends Record<string, FlagSpec>> = { [K in keyof (O & typeof COMMON)]: Value<(O & typeof COMMON)[K]> };

/** The flag list of a suite, one line each. */
export function flagUsage(suite: string, flags: Record<string, FlagSpec>): string {
  const lines = Object.entries(flags).map(([name, f]) => `  --${name}${f.type === 'string' ? `=${f.arg ?? 'N'}` : ''}  ${f.help}`);
  return `flags of ${suite}:\n${lines.join('\n')}\n`;
}

/**
 * Parses `argv` (default: this process's) against the suite's flags and the common ones; sets the
 * results and trace destinations (--out, --trace). Exits 2 on a flag the suite does not have.
 */
export function suiteArgs<O extends Record<string, FlagSpec>>(suite: string, flags: O, argv = process.argv.slice(2)): SuiteArgs<O> {
  const all: Record<string, FlagSpec> = { ...COMMON, ...flags };
  if (argv.length === 1 && argv[0] === '--describe-flags') {
    process.stdout.write(`${JSON.stringify(Object.fromEntries(Object.entries(all).map(([k, f]) => [k, f.type])))}\n`);
    process.exit(0);
  }
  const parsed = parseFlags(all, argv);
  if ('error' in parsed) {
    process.stderr.write(`${suite}: ${parsed.error}\n${flagUsage(suite, all)}`);
    process.exit(2);
  }
  if (parsed.values.help) {
    process.stdout.write(flagUsage(suite, all));
    process.exit(0);
  }
  setOutputs({ out: parsed.values.out as string | undefined, trace: parsed.values.trace as string | undefined });
  return parsed.values as SuiteArgs<O>;
}

/** node:util's strict parse, its error as a message (for tests and the suites). */
export function parseFlags(flags: Record<string, FlagSpec>, argv: string[]): { values: Record<string, string | boolean | undefined> } | { error: string } {
  const options = Object.fromEntries(Object.entries(flags).map(([k, f]) => [k, f.default === undefined ? { type: f.type } : { type: f.type, default: f.default }]));
  try {
    return { values: { ...parseArgs({ args: argv, options: options as ParseArgsConfig['options'], strict: true, allowPositionals: false }).values } };
  } catch (e) {
    return { error: (e as Error).message.split('\n')[0]! };
  }
}

/** A numeric flag's value, or `fallback` when it was not given; exits 2 when it is not a number. */
export function numberFlag(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) {
    process.stderr.write(`--${name} takes a number, got '${value}'\n`);
    process.exit(2);
  }
  return n;
}
