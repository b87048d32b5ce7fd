// The `bpt` command line at the parse level (no GPU work): the real commands, their flags made
// from the schemas, help, version, booleans, suggestions and the refusals of a command line that
// says something the command does not take.
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { sourceOptions } from '../../src/bpt/options.js';
import { resolveConfig } from '../../src/train/config.js';
import type { Command, CommandInput } from '../../src/cli/command.js';
import { demoCommand } from '../../src/cli/commands/demo.js';
import { evalCommand } from '../../src/cli/commands/eval.js';
import { forwardCommand } from '../../src/cli/commands/forward.js';
import { infoCommand } from '../../src/cli/commands/info.js';
import { pretrainCommand } from '../../src/cli/commands/pretrain.js';
import { reportCommand } from '../../src/cli/commands/report.js';
import { sourceCommand } from '../../src/cli/commands/source.js';
import { targetCommand } from '../../src/cli/commands/target.js';
import { commandLine, UsageError } from '../../src/cli/program.js';
import { tempDir } from '../util/fixtures.js';

const t = suite('cli/program');
const COMMANDS: Command[] = [infoCommand, demoCommand, forwardCommand, pretrainCommand, sourceCommand, targetCommand, evalCommand, reportCommand];
let dir: string;
t.before(() => void (dir = tempDir('cli-program')));
t.after(() => rmSync(dir, { recursive: true, force: true }));

interface Parsed {
  code: number;
  out: string;
  err: string;
  ran: { name: string; input: CommandInput; json: boolean } | null;
}

/** Parses `args` as `bpt args...` would, recording what would run instead of running it. */
async function bpt(...args: string[]): Promise<Parsed> {
  const p: Parsed = { code: 0, out: '', err: '', ran: null };
  const run = commandLine(COMMANDS, '9.8.7', async (cmd, input, json) => void (p.ran = { name: cmd.name, input, json }), {
    writeOut: (s) => void (p.out += s),
    writeErr: (s) => void (p.err += s),
  });
  try {
    await run(args);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    p.code = e.exitCode;
  }
  return p;
}

t('--version, -V', async () => {
  for (const flag of ['--version', '-V']) {
    const r = await bpt(flag);
    assert.is(r.code, 0);
    assert.is(r.out, '9.8.7\n');
  }
});

t('bpt help CMD and bpt CMD --help print the same help, with typed placeholders and one style of default', async () => {
  const a = await bpt('help', 'target');
  const b = await bpt('target', '--help');
  const c = await bpt('target', '-h');
  assert.is(a.code, 0);
  assert.is(b.code, 0);
  assert.is(a.out, b.out);
  assert.is(b.out, c.out);
  const help = a.out.replace(/\s+/g, ' ');
  for (const term of ['--lr NUM', '--out DIR', '--tasks LIST', '--model DIR', '--config FILE', '--source DIR', '--epochs INT',
    '--eval-mode generate|rank', '--[no-]keep-checkpoint', '--[no-]model-dropout', '--resume', '--json']) {
    assert.ok(help.includes(term), `help shows ${term}`);
  }
  assert.not.match(a.out, /VALUE|\[default|default [^(]/, 'no untyped placeholders, one style for defaults');
  assert.match(help, /--model DIR Hugging Face T5 checkpoint directory \(config\.json \+ model\.safetensors\) \(required\)/);
  assert.match(help, /--lr-low-rank NUM learning rate of U, V: a number > 0 \(default: 0\.4\)/);
  assert.match(help, /--\[no-\]keep-checkpoint keep checkpoint\.safetensors after the run completes \(default: false\)/);
  const top = await bpt('--help');
  for (const c of COMMANDS) assert.ok(top.out.includes(c.name), `bpt --help lists ${c.name}`);
  assert.match((await bpt('help', 'report')).out, /Usage: bpt report \[options\] <RUN_DIR>/);
});

t('bpt alone prints the usage and exits 2', async () => {
  const r = await bpt();
  assert.is(r.code, 2);
  assert.match(r.err, /Usage: bpt <command> \[options\]/);
  assert.is(r.ran, null);
});

t('booleans: --x alone, --no-x, unset when not given', async () => {
  assert.is((await bpt('source', '--keep-checkpoint')).ran!.input.flags['keep-checkpoint'], true);
  assert.is((await bpt('source', '--no-keep-checkpoint')).ran!.input.flags['keep-checkpoint'], false);
  assert.is((await bpt('source', '--no-model-dropout')).ran!.input.flags['model-dropout'], false);
  const none = (await bpt('source')).ran!.input;
  assert.equal(none, { flags: {}, configFile: null, resume: false, args: [] }, 'a flag not given leaves the config file value');
  assert.is((await bpt('demo', '--quick', '--resume')).ran!.input.flags.quick, true);
});

t('--name value and --name=value; flags reach the schema as typed, --config, --resume, --json', async () => {
  const r = await bpt('source', '--lr', '0.1', '--tasks=rte,mrpc', '--config', 'c.json', '--resume', '--json', '--task-sampling', 'null');
  assert.equal(r.ran, {
    name: 'source',
    input: { flags: { lr: '0.1', tasks: 'rte,mrpc', 'task-sampling': 'null' }, configFile: 'c.json', resume: true, args: [] },
    json: true,
  });
  assert.equal((await bpt('report', 'runs/a', '--out', 'r.html')).ran!.input, { flags: { out: 'r.html' }, configFile: null, resume: false, args: ['runs/a'] });
  assert.is((await bpt('eval', '--resume')).code, 2, 'eval has no --resume');
});

t('"did you mean" for a mistyped flag or command', async () => {
  const flag = await bpt('source', '--particels', '3');
  assert.is(flag.code, 2);
  assert.match(flag.err, /error: unknown option '--particels'\n\(Did you mean --particles\?\)/);
  assert.match(flag.err, /bpt help source lists the options/);
  const cmd = await bpt('sorce', '--tasks', 'rte');
  assert.is(cmd.code, 2);
  assert.match(cmd.err, /error: unknown command 'sorce'\n\(Did you mean source\?\)/);
  assert.is(cmd.ran, null);
  assert.match((await bpt('target', '--lr')).err, /option '--lr <NUM>' argument missing/);
});

t('a positional argument a command does not take is an error naming it, with the comma hint for lists', async () => {
  const list = await bpt('source', '--model', 'm', '--tasks', 'rte', 'mrpc', '--out', 'o');
  assert.is(list.code, 2);
  assert.is(list.ran, null);
  assert.match(list.err, /error: unexpected argument 'mrpc' \(lists take commas: --tasks rte,mrpc\)/);
  assert.match((await bpt('target', '--tasks=rte', 'mrpc', 'cola')).err, /unexpected argument 'mrpc' \(lists take commas: --tasks rte,mrpc,cola\)/);
  const info = await bpt('info', 'extra');
  assert.is(info.code, 2);
  assert.match(info.err, /error: unexpected argument 'extra' \(bpt info takes no positional arguments\)/);
  assert.match((await bpt('report', 'a', 'b')).err, /unexpected argument 'b' \(bpt report takes RUN_DIR only\)/);
  assert.match((await bpt('source', '--keep-checkpoint', 'false')).err,
    /unexpected argument 'false' \(--keep-checkpoint takes no value: write --keep-checkpoint or --no-keep-checkpoint\)/);
  assert.match((await bpt('report')).err, /missing required argument 'RUN_DIR'/);
  const valued = await bpt('source', '--keep-checkpoint=false');
  assert.is(valued.code, 2);
  assert.match(valued.err, /error: --keep-checkpoint takes no value: write --keep-checkpoint or --no-keep-checkpoint/);
});

t('values the schema refuses: overflow to Infinity says so; a bad config-file key is named', async () => {
  const r = await bpt('source', '--model', 'm', '--tasks', 'rte', '--out', 'o', '--lr', '1e999');
  const { configFile, flags } = r.ran!.input;
  assert.throws(() => sourceOptions(configFile, flags), /--lr: 'lr' must be a number > 0, got 1e999 \(too large: it overflows a 64-bit float to Infinity\)/);
  const file = join(dir, 'bad.json');
  writeFileSync(file, '{"model": "m", "tasks": ["rte"], "out": "o", "lr": 1e999}');
  assert.throws(() => sourceOptions(file, {}), /bad\.json: 'lr' must be a number > 0, got a number \(too large: it overflows a 64-bit float to Infinity\)/);
  writeFileSync(file, JSON.stringify({ model: 'm', tasks: ['rte'], out: 'o', keepCheckpoints: true }));
  const parsed = (await bpt('source', '--config', file)).ran!.input;
  assert.throws(() => sourceOptions(parsed.configFile, parsed.flags), /bad\.json: unknown option 'keepCheckpoints' \(did you mean 'keepCheckpoint'\?\)/);
  assert.throws(() => resolveConfig(forwardCommand.schema, {}, {}, null), /^'model' is required: set --model \(Hugging Face/, 'no config file to mention');
});

t.run();
