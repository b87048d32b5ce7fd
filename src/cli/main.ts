#!/usr/bin/env node
// The `bpt` command: one subcommand per stage of the pipeline (commands/), parsed by program.ts.
// Every command ends with its result on stdout (a summary line or table, or one JSON object with
// --json); progress and messages go to stderr.
import { createRequire } from 'node:module';
import { initGpu, gpu, shutdownGpu } from '../gpu/device.js';
import { ConfigError } from '../train/config.js';
import type { Command } from './command.js';
import { demoCommand } from './commands/demo.js';
import { evalCommand } from './commands/eval.js';
import { forwardCommand } from './commands/forward.js';
import { generateCommand } from './commands/generate.js';
import { infoCommand } from './commands/info.js';
import { pretrainCommand } from './commands/pretrain.js';
import { probeCommand } from './commands/probe.js';
import { reportCommand } from './commands/report.js';
import { sourceCommand } from './commands/source.js';
import { targetCommand } from './commands/target.js';
import { vocabCommand } from './commands/vocab.js';
import { commandLine, UsageError, type Execute } from './program.js';

const COMMANDS: Command[] = [infoCommand, demoCommand, forwardCommand, pretrainCommand, probeCommand, generateCommand, sourceCommand, targetCommand, evalCommand, reportCommand, vocabCommand];

const execute: Execute = async (cmd, input, json) => {
  if (cmd.gpu !== false) await initGpu();
  if (cmd.gpu !== false && process.env.BPT_VERBOSE) process.stderr.write(`adapter: ${gpu().report.description}\n`);
  const outcome = await cmd.run(input);
  process.stdout.write(json ? `${JSON.stringify({ command: cmd.name, ...outcome.result })}\n` : `${outcome.summary}\n`);
};

// The package's own package.json, through the exports map's "./package.json".
const { version } = createRequire(import.meta.url)('bpt-webgpu/package.json') as { version: string };

commandLine(COMMANDS, version, execute)(process.argv.slice(2))
  .catch((err: Error) => {
    // The CLI library has already printed a usage error (and help or the version exits 0).
    if (err instanceof UsageError) process.exitCode = err.exitCode;
    else {
      process.stderr.write(`bpt: ${err.message}\n${process.env.BPT_VERBOSE && !(err instanceof ConfigError) ? `${err.stack}\n` : ''}`);
      process.exitCode = 1;
    }
  })
  .finally(() => shutdownGpu());
