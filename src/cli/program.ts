// The `bpt` command line on commander (zero dependencies, the most used Node CLI library): it
// gives subcommands, `bpt help CMD` and `CMD --help`, `--version`, `--no-x` booleans, "did you
// mean" for a mistyped flag or command, and the error for a missing value. Every option comes
// from a command's schema: a field `fooBar` is the flag `--foo-bar PLACEHOLDER` (a boolean is
// `--foo-bar` / `--no-foo-bar`), its help says what it accepts and its default, and values reach
// the schema as typed, so the config file and the flags share one validation.
import { Command as Program, CommanderError, Option, type Help } from 'commander';
import { describeKind, fieldArg, flagName, type Field, type Schema } from '../train/config.js';
import type { Command, CommandInput } from './command.js';

/** Runs a parsed command; `json` asks for the result as one JSON object on stdout. */
export type Execute = (cmd: Command, input: CommandInput, json: boolean) => Promise<void>;

/** Where the library writes help (stdout) and errors (stderr); tests pass their own. */
export interface Output {
  writeOut(s: string): void;
  writeErr(s: string): void;
}

/** A command line the user must correct: exit code 2 (help and --version exit 0). */
export class UsageError extends Error {
  override name = 'UsageError';
  constructor(message: string, readonly exitCode: number) {
    super(message);
  }
}

function shownDefault(f: Field): string {
  if (f.default === undefined) return '(required)';
  const v = f.default;
  return `(default: ${Array.isArray(v) ? v.join(',') : v === null ? 'null' : String(v)})`;
}

/** The help line of a field: what it is, what it accepts, its default. */
function fieldHelp(f: Field): string {
  // Strings, booleans and enums whose placeholder lists the values need no words on what they take.
  const plain = f.kind === 'string' || f.kind === 'bool' || (f.kind === 'enum' && fieldArg(f).includes('|'));
  const accepts = plain ? '' : `: ${describeKind(f)}${f.nullable ? ' or null' : ''}`;
  return `${f.help}${accepts} ${shownDefault(f)}`;
}

/** Boolean options that also have a `--no-` form (help shows them as `--[no-]name`). */
const NEGATABLE = new WeakSet<Option>();

/** The options of one field: `--name ARG`, or for a boolean `--name` and `--no-name`. */
function fieldOptions(name: string, f: Field): Option[] {
  const flag = flagName(name);
  if (f.kind !== 'bool') return [new Option(`${flag} <${fieldArg(f)}>`, fieldHelp(f))];
  const yes = new Option(flag, fieldHelp(f));
  NEGATABLE.add(yes);
  return [yes, new Option(`--no-${flag.slice(2)}`).hideHelp()];
}

/** The field a flag (`--tasks`, `--no-keep-checkpoint`, `--tasks=rte`) sets, if any. */
function fieldOfFlag(schema: Schema, token: string): [string, Field] | null {
  const flag = token.split('=')[0]!.replace(/^--no-/, '--');
  const hit = Object.entries(schema).find(([n]) => flagName(n) === flag);
  return hit ?? null;
}

/** Why `--x false` or `--x=false` is refused. */
function noValue(name: string): string {
  const flag = flagName(name);
  return `${flag} takes no value: write ${flag} or --no-${flag.slice(2)}`;
}

/**
 * The error for a positional argument `cmd` does not take, with a hint when the word follows a
 * list flag (`--tasks rte mrpc`: lists take commas) or a boolean (`--keep-checkpoint false`).
 */
function unexpectedArgument(cmd: Command, tokens: readonly string[], word: string): string {
  const at = tokens.indexOf(word);
  let j = at - 1;
  while (j >= 0 && !tokens[j]!.startsWith('-')) j--;
  const hit = j >= 0 ? fieldOfFlag(cmd.schema, tokens[j]!) : null;
  let hint = cmd.args?.length ? `bpt ${cmd.name} takes ${cmd.args.map((a) => a.name).join(' ')} only` : `bpt ${cmd.name} takes no positional arguments`;
  if (hit?.[1].kind === 'list') {
    const flag = tokens[j]!.split('=')[0]!;
    const inline = tokens[j]!.includes('=') ? [tokens[j]!.slice(flag.length + 1)] : [];
    let end = j + 1;
    while (end < tokens.length && !tokens[end]!.startsWith('-')) end++;
    hint = `lists take commas: ${flag} ${[...inline, ...tokens.slice(j + 1, end)].join(',')}`;
  } else if (hit?.[1].kind === 'bool' && j === at - 1) hint = noValue(hit[0]);
  return `error: unexpected argument '${word}' (${hint})`;
}

/** Flags as the schema reads them: by flag name without dashes, only those given. */
function givenFlags(schema: Schema, values: Record<string, unknown>, sub: Program): Record<string, string | boolean> {
  const flags: Record<string, string | boolean> = {};
  for (const name of Object.keys(schema)) {
    const key = flagName(name).slice(2);
    const option = sub.options.find((o) => o.long === `--${key}`)!;
    const v = values[option.attributeName()];
    if (typeof v === 'string' || typeof v === 'boolean') flags[key] = v;
  }
  return flags;
}

function defineCommand(program: Program, cmd: Command, execute: Execute, tokensAfter: (name: string) => readonly string[]): void {
  const sub = program.command(cmd.name).description(cmd.summary).showHelpAfterError(`(bpt help ${cmd.name} lists the options)`);
  for (const a of cmd.args ?? []) sub.argument(`<${a.name}>`, a.help);
  if (cmd.config) sub.addOption(new Option('--config <FILE>', 'JSON file of options (the names below in camelCase); flags override it'));
  if (cmd.resume) sub.addOption(new Option('--resume', 'continue the run in --out from its checkpoint (same options)'));
  for (const [name, f] of Object.entries(cmd.schema)) fieldOptions(name, f).forEach((o) => sub.addOption(o));
  sub.addOption(new Option('--json', 'print the result as one JSON object on stdout (progress stays on stderr)'));
  sub.action(async () => {
    const declared = cmd.args?.length ?? 0;
    const extra = sub.args.slice(declared);
    if (extra.length) sub.error(unexpectedArgument(cmd, tokensAfter(cmd.name), extra[0]!), { exitCode: 2, code: 'bpt.unexpectedArgument' });
    const values = sub.opts();
    const input: CommandInput = {
      flags: givenFlags(cmd.schema, values, sub),
      configFile: typeof values.config === 'string' ? values.config : null,
      resume: values.resume === true,
      args: sub.args.slice(0, declared),
    };
    await execute(cmd, input, values.json === true);
  });
}

/**
 * The `bpt` command line: `commands` in the order `bpt --help` lists them. The returned function
 * parses the arguments after `bpt` and runs the command they name (help and --version included);
 * it rejects with a UsageError for a command line to correct, after the library has printed why.
 */
export function commandLine(commands: readonly Command[], version: string, execute: Execute, output?: Output): (args: readonly string[]) => Promise<void> {
  let tokens: readonly string[] = [];
  const program = new Program('bpt')
    .usage('<command> [options]')
    .description('Bayesian Prompt Tuning for T5 on a WebGPU tensor engine')
    .version(version, '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show this help')
    .helpCommand('help [command]', "show a command's options")
    .allowExcessArguments(true)
    .showSuggestionAfterError(true)
    .configureHelp({
      // `--lr NUM`, `--[no-]keep-checkpoint`: the placeholder as a word, both forms of a boolean.
      optionTerm: (o: Option) => (NEGATABLE.has(o) ? `--[no-]${o.long!.slice(2)}` : o.flags.replace(/[<>]/g, '')),
      subcommandTerm: (c: Program) => c.name(),
    } satisfies Partial<Help>)
    .exitOverride((err: CommanderError) => {
      throw new UsageError(err.message, err.exitCode === 0 ? 0 : 2);
    });
  if (output) program.configureOutput(output);
  const tokensAfter = (name: string): readonly string[] => tokens.slice(tokens.indexOf(name) + 1);
  for (const cmd of commands) defineCommand(program, cmd, execute, tokensAfter);
  return async (args) => {
    tokens = args;
    // commander would call `--keep-checkpoint=false` an unknown option; say what is wrong with it.
    const cmd = commands.find((c) => c.name === args[0]);
    const valued = cmd && args.slice(1).map((a) => (a.includes('=') ? fieldOfFlag(cmd.schema, a) : null)).find((hit) => hit?.[1].kind === 'bool');
    if (cmd && valued) program.commands.find((c) => c.name() === cmd.name)!.error(`error: ${noValue(valued[0])}`, { exitCode: 2, code: 'bpt.booleanValue' });
    await program.parseAsync([...args], { from: 'user' });
  };
}
