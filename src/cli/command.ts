// The shape of a `bpt` subcommand: options declared once, parsed by node:util's parseArgs (no
// dependency needed for flags), and help text generated from the same declaration.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { OptionSpec } from '../train/config.js';

export interface Command {
  name: string;
  summary: string;
  usage: string;
  options: Record<string, OptionSpec>;
  run(values: Record<string, string | boolean | undefined>, positionals: string[]): Promise<void>;
}

/** An error whose message is the whole story: printed without a stack trace. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export function parseCommand(cmd: Command, argv: string[]): { values: Record<string, string | boolean | undefined>; positionals: string[] } {
  const options: ParseArgsConfig['options'] = {};
  for (const [k, o] of Object.entries(cmd.options)) {
    options[k] = { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.default !== undefined ? { default: o.default } : {}) };
  }
  try {
    const { values, positionals } = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
    return { values: values as Record<string, string | boolean | undefined>, positionals };
  } catch (e) {
    throw new UsageError(`bpt ${cmd.name}: ${(e as Error).message}\n\n${helpText(cmd)}`);
  }
}

export function helpText(cmd: Command): string {
  const lines = [`usage: bpt ${cmd.name} ${cmd.usage}`, '', cmd.summary, '', 'options:'];
  for (const [k, o] of Object.entries(cmd.options)) {
    const flag = `--${k}${o.type === 'string' ? ' VALUE' : ''}`;
    lines.push(`  ${flag.padEnd(28)} ${o.help}${o.default !== undefined ? ` (default ${o.default})` : ''}`);
  }
  return lines.join('\n');
}

/** A required string option, or a UsageError naming it. */
export function required(cmd: Command, values: Record<string, string | boolean | undefined>, key: string): string {
  const v = values[key];
  if (typeof v !== 'string' || v === '') throw new UsageError(`bpt ${cmd.name}: --${key} is required\n\n${helpText(cmd)}`);
  return v;
}
