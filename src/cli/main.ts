#!/usr/bin/env node
// The `bpt` command: one subcommand per stage of the pipeline.
import { initGpu, gpu, shutdownGpu } from '../gpu/device.js';
import { helpText, parseCommand, UsageError, type Command } from './command.js';
import { demoCommand } from './commands/demo.js';
import { evalCommand } from './commands/eval.js';
import { forwardCommand } from './commands/forward.js';
import { infoCommand } from './commands/info.js';
import { pretrainCommand } from './commands/pretrain.js';
import { reportCommand } from './commands/report.js';
import { sourceCommand } from './commands/source.js';
import { targetCommand } from './commands/target.js';
import { vocabCommand } from './commands/vocab.js';

const COMMANDS: Command[] = [infoCommand, demoCommand, forwardCommand, pretrainCommand, sourceCommand, targetCommand, evalCommand, reportCommand, vocabCommand];


function usage(): string {
  const lines = ['usage: bpt <command> [options]   (bpt <command> --help for its options)', '', 'commands:'];
  for (const c of COMMANDS) lines.push(`  ${c.name.padEnd(10)} ${c.summary}`);
  return lines.join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h') {
    process.stdout.write(usage() + '\n');
    return name ? 0 : 2;
  }
  const cmd = COMMANDS.find((c) => c.name === name);
  if (!cmd) throw new UsageError(`bpt: unknown command "${name}"\n\n${usage()}`);
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(helpText(cmd) + '\n');
    return 0;
  }
  const { values, positionals } = parseCommand(cmd, rest);
  await initGpu();
  if (process.env.BPT_VERBOSE) process.stderr.write(`adapter: ${gpu().report.description}\n`);
  await cmd.run(values, positionals);
  return 0;
}

main(process.argv.slice(2))
  .then((code) => {
    process.exitCode = code;
  })
  .catch((err: Error) => {
    process.stderr.write(err instanceof UsageError ? `${err.message}\n` : `bpt: ${err.message}\n${process.env.BPT_VERBOSE ? err.stack + '\n' : ''}`);
    process.exitCode = err instanceof UsageError ? 2 : 1;
  })
  .finally(() => shutdownGpu());
